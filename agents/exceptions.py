"""Domain errors of the knowledge base's writes, each naming its API error code."""

from supportdesk.errors import DomainError


class KnowledgeBaseError(DomainError):
    """Base class: each subclass names its API error code and HTTP status."""

    code = "invalid_field"
    detail = "Invalid knowledge-base change."


class SlugTaken(KnowledgeBaseError):
    code = "slug_taken"
    detail = "Another article already has this slug."
    status = 409


class ArticleNotFound(KnowledgeBaseError):
    code = "article_not_found"
    detail = "No such article."
    status = 404


class ExampleNotFound(KnowledgeBaseError):
    code = "example_not_found"
    detail = "No such example question for this article."
    status = 404
