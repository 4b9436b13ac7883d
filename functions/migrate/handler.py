"""Applies pending migrations; run by a CDK trigger on every deploy."""
from aws_lambda_powertools import Logger

from helpdesk.db.client import DataApi
from helpdesk.db.migrate import migrate

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    applied = migrate(DataApi.from_settings())
    logger.info("migrations applied", extra={"applied": applied})
    return {"applied": applied}
