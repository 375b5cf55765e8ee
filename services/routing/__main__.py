"""`python -m services.routing`: serve routing until SIGTERM."""

from services.routing.bootstrap import SERVICE, create
from services.routing.settings import Settings
from shared.runtime import serve

if __name__ == "__main__":
    settings = Settings()
    serve(create(settings), settings, SERVICE)
