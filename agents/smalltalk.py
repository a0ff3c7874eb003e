"""Small talk: a message that is only a greeting, thanks or goodbye gets a friendly answer.

Without this, "hi" or "thanks!" match no article and would be handed to a person.
"""

from __future__ import annotations

import re

_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|howdy|good\s+(?:morning|afternoon|evening)|greetings)"
    r"(?:\s+(?:there|team|all|everyone))?\s*[!.,]*\s*$",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"^\s*(?:(?:ok(?:ay)?|great|perfect|cool|awesome|brilliant)[\s,!.]*)?"
    r"(?:thanks?|thank\s+you|thx|ty|cheers|many\s+thanks)"
    r"(?:\s+(?:so\s+much|a\s+lot|very\s+much|again))?\s*[!.]*\s*$",
    re.IGNORECASE,
)
_GOODBYE = re.compile(
    r"^\s*(?:bye|goodbye|see\s+you|have\s+a\s+(?:nice|good|great)\s+day)\s*[!.]*\s*$",
    re.IGNORECASE,
)

REPLIES = {
    "greeting": "Hi! I'm the support assistant. What can I help you with today?",
    "thanks": "You're welcome! Is there anything else I can help with?",
    "goodbye": "Thanks for getting in touch. Have a great day!",
}


def smalltalk_kind(text: str) -> str | None:
    """Return 'greeting', 'thanks' or 'goodbye' when that is all the message says."""
    for kind, pattern in (("greeting", _GREETING), ("thanks", _THANKS), ("goodbye", _GOODBYE)):
        if pattern.match(text):
            return kind
    return None
