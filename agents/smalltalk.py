"""Small talk and off-topic messages: what the agent answers without the knowledge base.

Without this, "hi", "thanks!" or "are you still there?" match no article and would be handed
to a person; "what's the weather?" is declined politely rather than queued for a human.
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
# "Are you still there?", "hello?", "anyone there?": the customer checks that someone
# listens; repeating the previous answer would be the worst reply (issue #12).
_PRESENCE = re.compile(
    r"""^\s*(?:
        (?:hi|hello|hey|hallo|helloo+)\s*\?+[?!.\s]*
      | (?:are\s+you|r\s+u|you)\s+(?:still\s+)?(?:there|here|around|awake)\b[^a-z]*
      | (?:is\s+)?(?:any\s*(?:one|body)|some\s*(?:one|body))\s+(?:still\s+)?(?:there|here)\b[^a-z]*
      | still\s+there\b[^a-z]*
      | hello\s*,?\s*(?:are\s+you\s+)?(?:still\s+)?there\b[^a-z]*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)

# Clearly outside any shop's business: weather, jokes, sport, news, cooking, general
# knowledge, questions about the assistant itself. Only consulted when the knowledge base has
# no confident answer (so "how is the weather affecting deliveries?" can still be answered).
_OFF_TOPIC = re.compile(
    r"""
    \bweather\b|\bforecast\b|\b(?:is\s+it|will\s+it)\s+(?:rain|snow|sunny|hot|cold)\b
    |\btemperature\s+(?:in|outside|today|tomorrow)\b
    |\b(?:tell|know)\s+(?:me\s+)?(?:a\s+)?(?:good\s+|funny\s+)?(?:joke|riddle|story|poem)s?\b
    |\bsing\s+(?:me\s+)?a\s+song\b|\bwrite\s+(?:me\s+)?a\s+(?:poem|song|story|essay)\b
    |\bmeaning\s+of\s+life\b|\bcapital\s+(?:city\s+)?of\b|\bwho\s+(?:won|is\s+winning|will\s+win)\b
    |\b(?:football|soccer|basketball|cricket|tennis|baseball|rugby)\b(?!\s+(?:boots?|shirts?|balls?|shoes?))
    |\bworld\s+cup\b|\bpremier\s+league\b|\bsuper\s+bowl\b
    |\b(?:president|prime\s+minister)\s+of\b|\belections?\b|\bpolitics\b|\bthe\s+news\b
    |\bhow\s+(?:do\s+(?:i|you)|to)\s+(?:cook|bake|boil|fry|make\s+(?:pasta|rice|a\s+cake|bread|coffee|tea))\b
    |\brecipes?\b|\bcook\s+rice\b
    |\bhow\s+are\s+you(?:\s+doing)?\s*(?:today)?\s*[?!.]*\s*$
    |\bwhat(?:'s|\s+is)\s+your\s+(?:name|favou?rite|age\s*[?!.]*\s*$)|\bhow\s+old\s+are\s+you\b
    |\bdo\s+you\s+(?:like|love|dream|have\s+feelings)\b|\bare\s+you\s+(?:happy|sad|alive|single)\b
    |\bwhat\s+time\s+is\s+it\b|\bwhat(?:'s|\s+is)\s+the\s+(?:time|date)\s*(?:today|now)?\s*[?]*\s*$
    |\bwhat(?:'s|\s+is)\s+\d+\s*[-+*/x]\s*\d+\b|\bsquare\s+root\b
    |\bhoroscope\b|\bzodiac\b|\blottery\b|\bmovies?\s+(?:tonight|to\s+watch)\b
    |\bi(?:'m|\s+am)\s+bored\b
    """,
    re.IGNORECASE | re.VERBOSE,
)

# Keyboard mashing ("asdfgh", "qwerty zxcv"): no word of any language.
_KEYBOARD_RUNS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_ALPHA_WORD = re.compile(r"[a-z]+")

REPLIES = {
    "greeting": "Hi! I'm the support assistant. What can I help you with today?",
    "thanks": "You're welcome! Is there anything else I can help with?",
    "goodbye": "Thanks for getting in touch. Have a great day!",
    "presence": "Yes, I'm here — what can I help you with?",
}
# Said instead when the first wording was the agent's previous message: never the same
# words twice in a row.
REPLIES_AGAIN = {
    "greeting": "Hello again! Tell me what you need and I'll do my best to help.",
    "thanks": "Happy to help! Anything else?",
    "goodbye": "Goodbye, and thanks again for getting in touch!",
    "presence": "Still here! Ask me anything about your order, delivery, returns or account.",
}


def smalltalk_kind(text: str) -> str | None:
    """Return 'greeting', 'thanks', 'goodbye' or 'presence' when that is all the message says."""
    for kind, pattern in (
        ("greeting", _GREETING),
        ("thanks", _THANKS),
        ("goodbye", _GOODBYE),
        ("presence", _PRESENCE),
    ):
        if pattern.match(text):
            return kind
    return None


def is_off_topic(text: str) -> bool:
    """Return whether the message is clearly about something no shop's support covers."""
    return bool(_OFF_TOPIC.search(text))


def _mashed(word: str) -> bool:
    if len(word) < 4:
        return False
    if not re.search(r"[aeiouy]", word):
        return True
    # Four letters in a row along one keyboard row ("asdf", "wert"), either direction.
    for row in _KEYBOARD_RUNS:
        for start in range(len(row) - 3):
            run = row[start : start + 4]
            if run in word or run[::-1] in word:
                return True
    return False


def is_gibberish(text: str) -> bool:
    """Return whether the message is keyboard mashing or has no recognisable word."""
    words = _ALPHA_WORD.findall(text.lower())
    if not words:
        return not re.search(r"\d", text)  # only punctuation or emoji; an order number is not
    mashed = sum(1 for w in words if _mashed(w))
    return mashed * 2 >= len(words) and mashed > 0
