"""User-agent classification: browser family and whether it is a bot.

The rules are ordered: the first matching token wins (Edge before Chrome,
Chrome before Safari, since their agent strings contain each other's).
Classification is a scan over all rules, so results are memoised: a log
has far fewer distinct agents than lines.
"""

from loglens.cache import memoize

RULES = [
    ("googlebot", "Googlebot", True),
    ("bingbot", "Bingbot", True),
    ("bot", "Other bot", True),
    ("crawler", "Other bot", True),
    ("spider", "Other bot", True),
    ("curl/", "curl", True),
    ("python-requests", "python-requests", True),
    ("go-http-client", "Go", True),
    ("edg/", "Edge", False),
    ("firefox/", "Firefox", False),
    ("chrome/", "Chrome", False),
    ("safari/", "Safari", False),
]


@memoize(capacity=64)
def classify_agent(agent):
    """agent string -> (family, is_bot)."""
    lowered = agent.lower()
    for token, family, is_bot in RULES:
        if token in lowered:
            return family, is_bot
    return "Other", False


def is_mobile(agent):
    return "Mobile" in agent or "Android" in agent
