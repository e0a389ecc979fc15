"""The base of every request body model: the document and the server agree on extras.

A body model that silently drops fields it does not know hides mistakes (a misspelt
``dispaly_name`` is a no-op that answers 200) and lets the document say less than the
server does. :class:`RequestModel` refuses them: an unknown field is a 422 with code
``extra_forbidden`` at its location, and the model's JSON Schema (so the OpenAPI
document and the generated SDK) says ``additionalProperties: false``. Nested models of a
body should derive from it too, so the rule holds at every depth.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    """A JSON body (or a part of one) a client sends: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")
