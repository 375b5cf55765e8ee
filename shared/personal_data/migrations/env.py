from shared.migrations import run_env
from shared.personal_data.postgres_vault import metadata

run_env(metadata)
