"""Routes for users: me, by id, by username."""

from __future__ import annotations

from fake_twitter.backend import TwitterBackend
from fake_twitter.exceptions import invalid_parameter
from fake_twitter.http import Reply, Request, Router
from fake_twitter.models import User
from fake_twitter.params import check_known, parse_id
from fake_twitter.selection import user_selection
from fake_twitter.views import user_v2

__all__ = ["install"]

USER_PARAMS = frozenset(("user.fields", "expansions", "tweet.fields", "post.fields"))
_USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def install(router: Router, backend: TwitterBackend) -> None:
    def user_reply(user: User, request: Request) -> Reply:
        query = request.query
        check_known(query, USER_PARAMS)
        fields = user_selection(query)
        return Reply(200, {"data": user_v2(user, fields)})

    def me(request: Request) -> Reply:
        return user_reply(backend.get_user(request.user_id), request)

    def by_id(request: Request) -> Reply:
        user_id = parse_id("id", request.path_params["id"], kind="path")
        return user_reply(backend.get_user(user_id), request)

    def by_username(request: Request) -> Reply:
        username = request.path_params["username"]
        if not 1 <= len(username) <= 15 or not set(username) <= _USERNAME_CHARS:
            raise invalid_parameter(
                "username",
                username,
                f"The `username` path parameter value [{username}] does not match ^[A-Za-z0-9_]{{1,15}}$",
            )
        return user_reply(backend.get_user_by_username(username), request)

    router.add("GET", "/2/users/me", me, "user")
    router.add("GET", "/2/users/by/username/:username", by_username, "any")
    router.add("GET", "/2/users/:id", by_id, "any")
