"""Decode bounds the grader's work, not only the size: sets and dicts with non-str keys are
hashed into tables, and keys chosen to hash alike (multiples of 2**61 - 1 for ints) make that
quadratic. Over ``Limits.max_hashed_items`` such keys in one value, decode refuses before it
hashes any, and encode refuses the same values in the kernel."""

import time

import pytest

from autograder.codec import DEFAULT_LIMITS, CodecError, Limits, decode, encode

P = 2**61 - 1  # ints that differ by a multiple of it hash alike


def colliding_set_text(count: int) -> str:
    items = ",".join(f'{{"$":"int","hex":"{k * P:x}"}}' for k in range(1, count + 1))
    return '{"nngrade_codec":1,"value":{"$":"set","items":[' + items + "]}}"


def colliding_dict_text(count: int) -> str:
    pairs = ",".join(f'[{{"$":"int","hex":"{k * P:x}"}},{k}]' for k in range(1, count + 1))
    return '{"nngrade_codec":1,"value":{"$":"dict","items":[' + pairs + "]}}"


def test_colliding_keys_hash_alike():
    assert len({hash(k * P) for k in range(1, 100)}) == 1


@pytest.mark.parametrize("make", [colliding_set_text, colliding_dict_text])
def test_a_megabyte_of_colliding_keys_is_refused_fast(make):
    text = make(23_000)  # about 1 MB: 3 s of decoding before the bound
    assert len(text) > 900_000
    start = time.process_time()
    with pytest.raises(CodecError, match="4,096 set elements and dict keys"):
        decode(text)
    assert time.process_time() - start < 1.0


def test_the_bound_is_over_the_whole_value():
    one = '{"$":"set","items":[' + ",".join(str(k) for k in range(3000)) + "]}"
    text = '{"nngrade_codec":1,"value":[' + one + "," + one + "]}"
    with pytest.raises(CodecError, match="set elements"):
        decode(text)
    assert len(decode('{"nngrade_codec":1,"value":[' + one + "]}")[0]) == 3000


def test_at_the_bound_colliding_keys_stay_cheap():
    count = DEFAULT_LIMITS.max_hashed_items
    start = time.process_time()
    assert len(decode(colliding_set_text(count))) == count
    assert len(decode(colliding_dict_text(count))) == count
    assert time.process_time() - start < 2.0  # about 0.2 s here


def test_str_keys_of_plain_objects_do_not_count():
    value = {f"k{i}": i for i in range(10_000)}
    assert decode(encode(value)) == value


def test_encode_refuses_what_decode_refuses():
    limits = Limits(max_hashed_items=10)
    assert decode(encode(set(range(10)), limits=limits), limits=limits) == set(range(10))
    for value in (set(range(11)), frozenset(range(11)), {i: 0 for i in range(11)},
                  [{1, 2, 3, 4, 5, 6}, {(7,): 1, 8: 2, 9: 3, 10: 4, 11: 5}]):
        with pytest.raises(CodecError, match="more than 10 set elements"):
            encode(value, limits=limits)
        with pytest.raises(CodecError, match="more than 10 set elements"):
            decode(encode(value), limits=limits)
