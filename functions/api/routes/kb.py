"""Knowledge-base articles: agents read, leads and admins write."""
from __future__ import annotations

import uuid
from typing import Annotated, Optional

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from helpdesk.admin import ArticleIn, ArticlePatch, KbArticles

from ._shared import Doc, ItemsOut, caller, services

router = Router()


def _articles() -> KbArticles:
    svc = services()
    return KbArticles(svc.db, svc.clock)


@router.post("/kb/articles", responses={201: {"description": "created", "content": {"application/json": {"model": Doc}}}})
def create_article(body: ArticleIn) -> Response[Doc]:
    article = _articles().create(body, by=caller(router, "lead"))
    return Response(201, content_types.APPLICATION_JSON, article)


@router.get("/kb/articles")
def list_articles(limit: Annotated[int, Query(ge=1, le=100, description="page size 1..100")] = 50,
                  include_unpublished: bool = False) -> ItemsOut:
    who = caller(router)
    items = _articles().list(include_unpublished=include_unpublished and who.has_role("lead"), limit=limit)
    return ItemsOut(items=items)


@router.get("/kb/articles/<article_id>")
def get_article(article_id: uuid.UUID) -> Doc:
    caller(router)
    return Doc(**_articles().get(article_id))


@router.patch("/kb/articles/<article_id>")
def update_article(article_id: uuid.UUID, body: ArticlePatch) -> Doc:
    article = _articles().update(article_id, body, by=caller(router, "lead"))
    return Doc(**article)


@router.delete("/kb/articles/<article_id>", responses={204: {"description": "deleted"}})
def delete_article(article_id: uuid.UUID):
    _articles().delete(article_id, by=caller(router, "lead"))
    return Response(204, None, None)
