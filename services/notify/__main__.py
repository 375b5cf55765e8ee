"""`python -m services.notify`: serve notify until SIGTERM."""

from services.notify.bootstrap import SERVICE, create
from services.notify.settings import Settings
from shared.runtime import serve

if __name__ == "__main__":
    settings = Settings()
    serve(create(settings), settings, SERVICE)
