"""`python -m services.intake`: serve intake until SIGTERM."""

from services.intake.bootstrap import SERVICE, create
from services.intake.settings import Settings
from shared.runtime import serve

if __name__ == "__main__":
    settings = Settings()
    serve(create(settings), settings, SERVICE)
