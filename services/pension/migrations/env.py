from services.kit.migrate import run_env
from services.pension.models import Base

run_env(Base.metadata)
