"""Knowledge-base articles (drafts and published)."""
from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field, StrictBool

from helpdesk import errors
from helpdesk.admin import audit
from helpdesk.admin._common import patch_params, sent, write
from helpdesk.auth import Principal
from helpdesk.clock import Clock
from helpdesk.db import kb as kb_sql
from helpdesk.db.client import DataApi
from helpdesk.tickets.models import _Input


class ArticleIn(_Input):
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=100_000)
    tags: list[str] = Field(default_factory=list, max_length=20)
    is_published: StrictBool = True


class ArticlePatch(_Input):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, min_length=1, max_length=100_000)
    tags: list[str] | None = Field(default=None, max_length=20)
    is_published: StrictBool | None = None


class KbArticles:
    def __init__(self, db: DataApi, clock: Clock) -> None:
        self.db, self.clock = db, clock

    def create(self, data: ArticleIn | dict[str, Any], by: Principal) -> dict[str, Any]:
        """The new article, recorded in the admin audit trail (without its body) as `by`'s change in the
        same statement."""
        art = data if isinstance(data, ArticleIn) else ArticleIn.parse(data)
        doc = write(self.db, kb_sql.CREATE_ARTICLE, {
            **art.model_dump(), "now": self.clock.now(),
            "audit": audit.entry(by, "create", "kb_article", sent(art, leave_out={"body"}))}, "article")
        assert doc is not None
        return doc

    def get(self, article_id: uuid.UUID) -> dict[str, Any]:
        row = self.db.query_one(kb_sql.GET_ARTICLE, {"id": article_id})
        if row is None:
            raise errors.NotFound(f"article {article_id} not found")
        return row["doc"]

    def list(self, *, include_unpublished: bool, limit: int = 50, after: tuple[str, uuid.UUID] | None = None) -> list[dict[str, Any]]:
        rows = self.db.query(kb_sql.LIST_ARTICLES, {
            "include_unpublished": include_unpublished, "limit": limit,
            "after_title": after[0] if after else None, "after_id": after[1] if after else None})
        return [r["doc"] for r in rows]

    def update(self, article_id: uuid.UUID, data: ArticlePatch | dict[str, Any], by: Principal) -> dict[str, Any]:
        patch = data if isinstance(data, ArticlePatch) else ArticlePatch.parse(data)
        params = patch_params(patch, ("title", "body", "tags", "is_published"))
        doc = write(self.db, kb_sql.UPDATE_ARTICLE, {
            **params, "id": article_id, "now": self.clock.now(),
            "audit": audit.entry(by, "update", "kb_article", sent(patch, leave_out={"body"}))}, f"article {article_id}")
        if doc is None:
            raise errors.NotFound(f"article {article_id} not found")
        return doc

    def delete(self, article_id: uuid.UUID, by: Principal) -> None:
        if self.db.query_one(kb_sql.DELETE_ARTICLE, {"id": article_id, "now": self.clock.now(),
                                                     "audit": audit.entry(by, "delete", "kb_article")}) is None:
            raise errors.NotFound(f"article {article_id} not found")
