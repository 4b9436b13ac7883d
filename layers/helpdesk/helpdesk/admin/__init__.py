"""Admin resources, one module each: teams, agents, customers, knowledge-base articles.

Each command is one Data API call; inputs are pydantic models whose errors name the field and the
rule (ValidationFailed), database rule violations become Conflict / ValidationFailed."""
from helpdesk.admin.agents import AgentIn, AgentPatch, Agents
from helpdesk.admin.customers import Customers
from helpdesk.admin.kb import ArticleIn, ArticlePatch, KbArticles
from helpdesk.admin.teams import TeamIn, TeamPatch, Teams

__all__ = ["AgentIn", "AgentPatch", "Agents", "ArticleIn", "ArticlePatch", "Customers", "KbArticles", "TeamIn",
           "TeamPatch", "Teams"]
