"""`python -m services.tracking`: serve tracking until SIGTERM."""

from services.tracking.bootstrap import SERVICE, create
from services.tracking.settings import Settings
from shared.runtime import serve

if __name__ == "__main__":
    settings = Settings()
    serve(create(settings), settings, SERVICE)
