from services.documents.tables import metadata
from services.kit.migrate import run_env

run_env(metadata)
