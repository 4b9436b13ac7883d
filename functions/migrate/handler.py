"""Applies pending migrations; run by a CDK trigger on every deploy."""
from aws_lambda_powertools import Logger, Tracer

from helpdesk.db.client import DataApi
from helpdesk.db.migrate import migrate

logger = Logger()
# X-Ray subsegments for every AWS SDK and HTTP call; responses stay out of traces (customer data).
tracer = Tracer(service="migrate")


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: object) -> dict:
    db = DataApi.from_settings()
    db.bind_invocation(context)  # the first deploy may meet a paused cluster: wait out its resume
    applied = migrate(db)
    logger.info("migrations applied", extra={"applied": applied})
    return {"applied": applied}
