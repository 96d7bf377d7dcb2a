"""``matcher.ids``: no two distinct tuples encode the same (property tests), the encoding reads
back, it leaves every part without reserved characters as it was, and the Lua hash tag the
registry scripts use is the Python one, byte for byte, on a real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import ids
from matcher.orders.store.base import branch_account, volunteer_account
from matcher.orders.timebank import earn_id, redemption_id
from tests.support.redis_db import RedisDb, redis_or_skip, redis_url

#: Text rich in the characters that matter (reserved ones, escape look-alikes), plus any
#: other character Redis can hold (no lone surrogates: they have no UTF-8).
PART = st.lists(
    st.sampled_from([*"%:{}_\t.3A7BD5", "%3A", "%25", "é", "时"])
    | st.characters(blacklist_categories=("Cs",)),
    max_size=8,
).map("".join)


@st.composite
def tuple_pairs(draw: st.DrawFn) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Two tuples of one length (1 to 4 parts)."""
    n = draw(st.integers(1, 4))
    return draw(st.tuples(*[PART] * n)), draw(st.tuples(*[PART] * n))


@given(tuple_pairs())
def test_distinct_tuples_never_encode_the_same(pair: tuple[tuple[str, ...], ...]) -> None:
    first, second = pair
    assert (ids.join(*first) == ids.join(*second)) == (first == second)
    assert (ids.redis_key("p", *first) == ids.redis_key("p", *second)) == (first == second)


@given(st.integers(1, 5).flatmap(lambda n: st.tuples(*[PART] * n)))
def test_a_composite_reads_back(parts: tuple[str, ...]) -> None:
    text = ids.join(*parts)
    assert ids.split(text, len(parts)) == parts
    for part in text.split(":", len(parts) - 1)[:-1]:  # the escaped ones
        assert not set(part) & set(":{}")


@given(PART)
def test_escaping_reads_back_and_changes_only_reserved_characters(part: str) -> None:
    assert ids.unescape(ids.escape(part)) == part
    if not set(part) & set(ids.RESERVED):
        assert ids.escape(part) == part


@given(st.lists(PART.filter(lambda p: not set(p) & set(ids.RESERVED)), min_size=1, max_size=4))
def test_parts_without_reserved_characters_keep_the_old_bytes(parts: list[str]) -> None:
    assert ids.join(*parts) == ":".join(parts)


@given(PART, PART, PART, PART)
def test_record_keys_and_hash_tags_never_meet(b1: str, v1: str, b2: str, v2: str) -> None:
    assert (ids.hash_tag(b1) == ids.hash_tag(b2)) == (b1 == b2)
    tag = ids.hash_tag(b1)[1:-1]
    assert tag and "{" not in tag and "}" not in tag  # Redis Cluster hashes exactly the tag
    same = ids.record_key("p", b1, v1) == ids.record_key("p", b2, v2)
    assert same == ((b1, v1) == (b2, v2))


@given(PART, PART, PART, PART)
def test_transaction_ids_and_accounts_never_meet(v1: str, k1: str, v2: str, k2: str) -> None:
    assert (redemption_id(v1, k1) == redemption_id(v2, k2)) == ((v1, k1) == (v2, k2))
    assert redemption_id(v1, k1) != earn_id(v2)
    assert (volunteer_account(v1) == volunteer_account(v2)) == (v1 == v2)
    assert volunteer_account(v1) != branch_account(v2)


def test_the_issue_pair_and_the_head_bank() -> None:
    assert redemption_id("adv", "x:k") == "redeem:adv:x:k"  # unchanged: nothing to migrate
    assert redemption_id("adv:x", "k") == "redeem:adv%3Ax:k"
    assert (branch_account(""), volunteer_account("a:b")) == ("branch:", "volunteer:a:b")
    assert [ids.hash_tag(b) for b in ("", "_", "grid-1", "a}b")] == [
        "{_}",
        "{%5F}",
        "{grid-1}",
        "{a%7Db}",
    ]


@pytest.mark.parametrize(
    ("text", "count"), [("a", 2), ("a:b", 3), ("%zz:x", 2), ("a%3:b", 2), ("{x}:y", 2), ("a", 0)]
)
def test_split_refuses_what_join_never_writes(text: str, count: int) -> None:
    with pytest.raises(ValueError):
        ids.split(text, count)


@pytest.fixture(scope="module")
def client() -> Iterator[redis.Redis]:
    found = redis_or_skip(redis_url(RedisDb.SERVERS))
    yield found
    found.close()


@pytest.mark.redis
@settings(max_examples=60, deadline=None)
@given(part=PART)
def test_the_lua_hash_tag_is_the_python_one(client: redis.Redis, part: str) -> None:
    script = ids.LUA_HASH_TAG + "return hash_tag(ARGV[1])"
    got = client.eval(script, 0, part)
    assert got.decode() == ids.hash_tag(part)
