"""The query language of ``GET /2/tweets/search/recent``, as far as this fake can answer it honestly.

Supported (X's syntax and meaning):

* keywords and ``"exact phrases"``: whole words of the text, case-insensitive (words are split at
  punctuation, so ``reg`` matches ``#reg``; a phrase matches consecutive words);
* ``#hashtag`` and ``@username``: the post's hashtag and mention entities, case-insensitive;
* ``from:user`` / ``to:user`` (username or numeric id; ``to:`` = in reply to that user),
  ``conversation_id:id``, ``in_reply_to_tweet_id:id`` (standalone);
* ``is:reply``, ``is:quote``, ``is:retweet`` (the fake has no retweets, so it matches nothing),
  ``has:mentions``, ``has:hashtags`` (conjunction-required: never alone, as on X);
* juxtaposition = AND, ``OR`` (AND binds tighter), ``-`` negation of a term or group, ``( )``.

Anything else (``lang:``, ``url:``, ``has:media``, ``$cashtag``, ...) is refused with a 400 in X's
format at the position X would name: operators X has but the fake cannot evaluate say so; names X
does not know get X's "Reference to invalid operator" message. A query needs a positive standalone
term (X: negations and conjunction-required operators cannot stand alone).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fake_twitter.exceptions import invalid_parameter
from fake_twitter.models import Tweet, User

__all__ = ["And", "Node", "Not", "Or", "Term", "author_of", "compile_query", "parse_query", "words"]

_WORD = re.compile(r"\w+")
#: nesting of groups and negations beyond this is refused (a 400, not a recursion error)
MAX_DEPTH = 32
STANDALONE = frozenset(("from", "to", "conversation_id", "in_reply_to_tweet_id"))
CONJUNCTION = {"is": frozenset(("reply", "quote", "retweet")), "has": frozenset(("mentions", "hashtags"))}
#: operators X documents that this fake does not evaluate (a clear 400 rather than a wrong answer)
UNSUPPORTED = frozenset(
    "bio bio_location bio_name bounding_box context entity followers_count following_count has "
    "is lang list listed_count place place_country point_radius quotes_of_tweet_id retweets_of "
    "retweets_of_tweet_id sample source statuses_count tweets_count url url_contains "
    "url_description url_title".split()
)


def words(text: str) -> list[str]:
    """The lower-cased words of ``text`` (runs of letters, digits and underscores)."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True, slots=True)
class Term:
    kind: str  # "words" | "hashtag" | "mention" | an operator name
    value: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Not:
    node: Node


@dataclass(frozen=True, slots=True)
class And:
    nodes: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    nodes: tuple[Node, ...]


Node = Term | Not | And | Or


def _error(query: str, message: str, position: int) -> Exception:
    return invalid_parameter(
        "query", query, f"There were errors processing your request: {message} (at position {position + 1})"
    )


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = self._lex(query)
        self.at = 0
        self.depth = 0

    def _lex(self, q: str) -> list[tuple[str, str, int]]:
        """(kind, text, position): kinds ``(``, ``)``, ``-``, ``OR``, ``phrase``, ``token``."""
        out: list[tuple[str, str, int]] = []
        i = 0
        while i < len(q):
            c = q[i]
            if c.isspace():
                i += 1
            elif c in "()":
                out.append((c, c, i))
                i += 1
            elif c == "-" and i + 1 < len(q) and not q[i + 1].isspace():
                out.append(("-", c, i))
                i += 1
            elif c == '"':
                end = q.find('"', i + 1)
                if end < 0:
                    raise _error(q, "Unterminated quoted phrase", i)
                out.append(("phrase", q[i + 1 : end], i))
                i = end + 1
            else:
                j = i
                while j < len(q) and not q[j].isspace() and q[j] not in '()"':
                    j += 1
                text = q[i:j]
                out.append(("OR" if text == "OR" else "token", text, i))
                i = j
        return out

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def parse(self) -> Node:
        if not self.tokens:
            raise _error(self.query, "The query is empty", 0)
        node = self.or_expr()
        left = self.peek()
        if left is not None:
            raise _error(self.query, f"Unexpected '{left[1]}'", left[2])
        return node

    def or_expr(self) -> Node:
        nodes = [self.and_expr()]
        while (token := self.peek()) is not None and token[0] == "OR":
            self.at += 1
            nodes.append(self.and_expr())
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def and_expr(self) -> Node:
        nodes: list[Node] = []
        while (token := self.peek()) is not None and token[0] not in ("OR", ")"):
            nodes.append(self.unary())
        if not nodes:
            token = self.peek()
            position = token[2] if token is not None else len(self.query)
            raise _error(self.query, "Ambiguous use of OR or an empty group", position)
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def unary(self) -> Node:
        token = self.peek()
        assert token is not None
        if token[0] in ("-", "("):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _error(self.query, f"Groups and negations nest deeper than {MAX_DEPTH}", token[2])
            try:
                return self._nested(token)
            finally:
                self.depth -= 1
        self.at += 1
        kind, text, position = token
        if kind == "phrase":
            found = tuple(words(text))
            if not found:
                raise _error(self.query, "Empty quoted phrase", position)
            return Term("words", text, found)
        return self.term(text, position)

    def _nested(self, token: tuple[str, str, int]) -> Node:
        if token[0] == "-":
            self.at += 1
            if self.peek() is None:
                raise _error(self.query, "Negation of nothing", token[2])
            return Not(self.unary())
        self.at += 1  # "("
        node = self.or_expr()
        close = self.peek()
        if close is None or close[0] != ")":
            raise _error(self.query, "Missing closing parenthesis", token[2])
        self.at += 1
        return node

    def term(self, text: str, position: int) -> Term:
        q = self.query
        if text.startswith("#") and len(text) > 1:
            return Term("hashtag", text[1:].lower())
        if text.startswith("@") and len(text) > 1:
            return Term("mention", text[1:].lower())
        if text.startswith("$"):
            raise _error(q, "The cashtag operator ($) is not supported by this fake", position)
        name, colon, value = text.partition(":")
        if colon and name.isidentifier() and name.islower():
            if not value:
                raise _error(q, f"The operator '{name}:' needs a value", position)
            if name in STANDALONE:
                return Term(name, value.lower())
            if name in CONJUNCTION and value in CONJUNCTION[name]:
                return Term(name, value)
            if name in UNSUPPORTED:
                raise _error(q, f"The operator '{text}' is not supported by this fake", position)
            raise _error(
                q,
                f"Reference to invalid operator '{name}'. Operator is not available in current product "
                "or product packaging. Please refer to complete available operator list at "
                "https://developer.twitter.com/en/docs/twitter-api/tweets/search/integrate/build-a-query#list.",
                position,
            )
        found = tuple(words(text))
        if not found:
            raise _error(q, f"The term '{text}' has no words to match", position)
        return Term("words", text, found)


def parse_query(query: str) -> Node:
    """The query's tree; a 400 ``invalid-request`` (parameter ``query``) when it is not one the fake
    can answer. A query must hold a positive standalone term."""
    node = _Parser(query).parse()
    if not _has_positive_standalone(node, positive=True):
        raise _error(
            query,
            "The query must contain at least one positive standalone term (negations, is: and has: "
            "cannot stand alone)",
            0,
        )
    return node


def _has_positive_standalone(node: Node, *, positive: bool) -> bool:
    if isinstance(node, Term):
        return positive and node.kind not in CONJUNCTION
    if isinstance(node, Not):
        return _has_positive_standalone(node.node, positive=not positive)
    return any(_has_positive_standalone(n, positive=positive) for n in node.nodes)


Matcher = Callable[[Tweet], bool]


def compile_query(node: Node, users_by_name: Mapping[str, User]) -> Matcher:
    """A predicate over tweets (usernames resolved once; an unknown one matches nothing)."""

    def user_id(value: str) -> int | None:
        if (value.isascii() and value.isdigit()):
            return int(value)
        user = users_by_name.get(value)
        return user.id if user is not None else None

    def build(n: Node) -> Matcher:
        if isinstance(n, Not):
            inner = build(n.node)
            return lambda t: not inner(t)
        if isinstance(n, And):
            parts = [build(x) for x in n.nodes]
            return lambda t: all(p(t) for p in parts)
        if isinstance(n, Or):
            parts = [build(x) for x in n.nodes]
            return lambda t: any(p(t) for p in parts)
        return _term(n, user_id)

    return build(node)


def _term(term: Term, user_id: Callable[[str], int | None]) -> Matcher:
    kind, value = term.kind, term.value
    if kind == "words":
        wanted = term.words
        if len(wanted) == 1:
            word = wanted[0]
            return lambda t: word in t.text.lower() and word in words(t.text)
        joined = f" {' '.join(wanted)} "
        return lambda t: wanted[0] in t.text.lower() and joined in f" {' '.join(words(t.text))} "
    if kind == "hashtag":
        return lambda t: any(h.tag.lower() == value for h in t.hashtags)
    if kind == "mention":
        return lambda t: any(m.username.lower() == value for m in t.mentions)
    if kind in ("from", "to"):
        uid = user_id(value)
        if uid is None:
            return lambda t: False
        if kind == "from":
            return lambda t: t.author_id == uid
        return lambda t: t.in_reply_to_user_id == uid
    if kind in ("conversation_id", "in_reply_to_tweet_id"):
        target = int(value) if (value.isascii() and value.isdigit()) else -1
        if kind == "conversation_id":
            return lambda t: t.conversation_id == target
        return lambda t: t.in_reply_to_tweet_id == target
    if kind == "is":
        if value == "reply":
            return lambda t: t.in_reply_to_tweet_id is not None
        if value == "quote":
            return lambda t: t.quote_tweet_id is not None
        return lambda t: False  # is:retweet: the fake has no retweets
    if value == "mentions":  # has:
        return lambda t: bool(t.mentions)
    return lambda t: bool(t.hashtags)


def author_of(node: Node, users_by_name: Mapping[str, User]) -> int | None:
    """The user a required positive ``from:`` names (the author timeline then holds every match, so
    a search need not scan all posts); None when there is none or the user is unknown."""
    terms = node.nodes if isinstance(node, And) else (node,)
    for term in terms:
        if isinstance(term, Term) and term.kind == "from":
            if (term.value.isascii() and term.value.isdigit()):
                return int(term.value)
            user = users_by_name.get(term.value)
            if user is not None:
                return user.id
    return None
