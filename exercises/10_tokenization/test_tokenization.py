"""Kata 10 tokenization. Run: pytest exercises/10_tokenization   (one step: -k "step1" ... "step6")."""

from __future__ import annotations

import itertools
import re
import sys
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.testing import memory_budget
from tinytorch.testing.memory import DEFAULT_SLACK
from tinytorch.tokenization import (
    BPETokenizer,
    CharTokenizer,
    apply_merge,
    count_pairs,
    merge_pair,
    pretokenize,
    split_special_tokens,
)

# --- oracles written here, independent of the kata ---------------------------------------------

EOT = "<|endoftext|>"

CORPUS = (
    "the cat sat on the mat. the cat ate the rat!\n"
    "aaa aaaa aaaaa baaab -- the theme; then they thought.\n"
    "naïve café, 東京都の天気は晴れ, สวัสดีครับ, emoji 😀😀 and e\u0301 (a combining accent).\n"
) * 3

HELD_OUT = "then the cat thought: the mat, the rat, the theme... 😀 東京 café aaab"


def naive_merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """The pair replaced left to right, without overlaps: a slow, obvious loop."""
    out, i = [], 0
    while i < len(ids):
        if ids[i : i + 2] == list(pair):
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def naive_train(text: str, vocab_size: int, special: str | None = None) -> list[tuple[int, int]]:
    """The contract's training, obviously: every occurrence of every piece kept as its own list,
    and every pair recounted from scratch after every merge. Returns the merges in order."""
    chunks = text.split(special) if special else [text]
    words = [list(piece.encode("utf-8")) for chunk in chunks for piece in pretokenize(chunk)]
    first_id = 256 + (1 if special else 0)
    merges = []
    for new_id in range(first_id, vocab_size):
        counts = Counter()
        for word in words:
            for i in range(len(word) - 1):
                counts[(word[i], word[i + 1])] += 1
        if not counts:
            break
        best = min(counts, key=lambda pair: (-counts[pair], pair))  # most frequent, then smallest
        merges.append(best)
        words = [naive_merge(word, best, new_id) for word in words]
    return merges


def recount(words: list[list[int]], counts: list[int]) -> tuple[dict, dict]:
    """Every pair of every word counted from scratch (weighed by the word's count), and the set
    of the words that truly hold each pair."""
    pair_counts, holders = Counter(), {}
    for w, word in enumerate(words):
        for i in range(len(word) - 1):
            pair_counts[(word[i], word[i + 1])] += counts[w]
            holders.setdefault((word[i], word[i + 1]), set()).add(w)
    return dict(pair_counts), holders


def naive_encode(tokenizer: BPETokenizer, text: str) -> list[int]:
    """Every merge applied to every piece in the order learned (no special tokens)."""
    ids = []
    for piece in pretokenize(text):
        word = list(piece.encode("utf-8"))
        for pair, new_id in tokenizer.merges.items():
            word = naive_merge(word, pair, new_id)
        ids.extend(word)
    return ids


@pytest.fixture(scope="module")
def trained() -> BPETokenizer:
    return BPETokenizer().train(CORPUS, 320)


@pytest.fixture(scope="module")
def trained_special() -> BPETokenizer:
    return BPETokenizer().train(CORPUS.replace("\n", EOT), 300, [EOT, "<pad>"])


# --- step 1: CharTokenizer -----------------------------------------------------------------------


def test_step1_the_vocabulary_is_the_sorted_distinct_characters_and_ids_follow_it():
    tokenizer = CharTokenizer("hello world")
    assert tokenizer.chars == sorted(set("hello world"))
    assert tokenizer.vocab_size == 8 and tokenizer.unk_id is None
    assert tokenizer.encode("lower") == [sorted(set("hello world")).index(c) for c in "lower"]


@given(st.text(max_size=50), st.data())
def test_step1_decode_of_encode_is_the_text_for_any_unicode(text, data):
    tokenizer = CharTokenizer(text)
    sample = data.draw(st.text(alphabet=text, max_size=30)) if text else ""
    ids = tokenizer.encode(sample)
    assert len(ids) == len(sample) and all(0 <= i < tokenizer.vocab_size for i in ids)
    assert tokenizer.decode(ids) == sample


def test_step1_an_unknown_character_is_an_error_naming_it_and_its_position():
    with pytest.raises(ValueError, match=r"must be in the vocabulary, got 'z' at position 3"):
        CharTokenizer("hello").encode("helz")


def test_step1_with_unk_an_unknown_character_gets_the_extra_id_which_decodes_to_the_replacement_character():
    tokenizer = CharTokenizer("hello", unk=True)
    assert tokenizer.unk_id == 4 and tokenizer.vocab_size == 5
    assert tokenizer.encode("hez😀") == [1, 0, 4, 4]
    assert tokenizer.decode([1, 0, 4]) == "he\ufffd"


def test_step1_an_empty_text_has_an_empty_vocabulary_and_numpy_ids_decode():
    assert CharTokenizer("").vocab_size == 0 and CharTokenizer("").encode("") == []
    assert CharTokenizer("ab").decode(np.array([1, 0])) == "ba"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: CharTokenizer(b"abc"), TypeError, "text must be a str, got bytes"),
        (lambda: CharTokenizer("abc", unk=1), TypeError, "unk must be a bool, got int"),
        (lambda: CharTokenizer("abc").encode(["a"]), TypeError, "text must be a str, got list"),
        (lambda: CharTokenizer("abc").decode([0, 3]), ValueError, r"ids must be in 0..2, got 3 at position 1"),
        (lambda: CharTokenizer("abc").decode([-1]), ValueError, r"ids must be in 0..2, got -1 at position 0"),
        (lambda: CharTokenizer("abc").decode(["a"]), TypeError, "ids must be ints, got str at position 0"),
        (lambda: CharTokenizer("abc").decode([True]), TypeError, "ids must be ints, got bool"),
    ],
    ids=["bytes text", "int unk", "encode list", "id too large", "negative id", "str id", "bool id"],
)
def test_step1_bad_arguments_are_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- step 2: special tokens and one merge --------------------------------------------------------


@given(st.lists(st.sampled_from(["a", "<", "|", ">", "<|", "|>", "<|e|>", "<|e|><|e|>", " "]), max_size=20))
def test_step2_chunks_join_back_to_the_text_and_specials_are_exactly_the_special_chunks(parts):
    text = "".join(parts)
    specials = ["<|e|>", "<|e|><|e|>", "|"]
    chunks = split_special_tokens(text, specials)
    assert "".join(chunk for chunk, _ in chunks) == text
    assert all(chunk for chunk, _ in chunks)  # no empty chunk
    for chunk, is_special in chunks:
        assert (chunk in specials) if is_special else not any(s in chunk for s in specials)


@pytest.mark.parametrize("order", [[EOT, EOT + EOT], [EOT + EOT, EOT]], ids=["short first", "long first"])
def test_step2_of_overlapping_special_tokens_the_longest_wins_whatever_their_order(order):
    text = f"a{EOT}{EOT}{EOT}b"
    assert split_special_tokens(text, order) == [("a", False), (EOT + EOT, True), (EOT, True), ("b", False)]


def test_step2_without_special_tokens_the_text_is_one_chunk_and_empty_text_none():
    assert split_special_tokens("a<|e|>b", []) == [("a<|e|>b", False)]
    assert split_special_tokens("", ["<s>"]) == []
    assert split_special_tokens("<s>", ["<s>"]) == [("<s>", True)]


def test_step2_merge_pair_scans_left_to_right_without_overlaps():
    assert merge_pair([5, 5, 5], (5, 5), 9) == [9, 5]
    assert merge_pair([5, 5, 5, 5], (5, 5), 9) == [9, 9]
    assert merge_pair([1, 2, 1, 2, 2, 1], (1, 2), 7) == [7, 7, 2, 1]
    assert merge_pair([], (1, 2), 7) == [] and merge_pair([1], (1, 2), 7) == [1]


@given(st.lists(st.integers(0, 2), max_size=30), st.tuples(st.integers(0, 2), st.integers(0, 2)))
def test_step2_merge_pair_equals_the_slow_loop_and_leaves_its_input_alone(ids, pair):
    original = list(ids)
    merged = merge_pair(ids, pair, 9)
    assert merged == naive_merge(original, pair, 9)
    assert ids == original


# --- step 3: training ----------------------------------------------------------------------------


def test_step3_merges_on_a_small_corpus_are_the_naive_trainers_in_the_same_order():
    tokenizer = BPETokenizer().train(CORPUS, 360)
    assert list(tokenizer.merges) == naive_train(CORPUS, 360)
    assert list(tokenizer.merges.values()) == list(range(256, 360))


@given(st.text(alphabet="aab c.\né😀", max_size=80), st.integers(256, 300))
def test_step3_merges_equal_the_naive_trainers_on_generated_texts_with_ties_and_overlaps(text, vocab_size):
    assert list(BPETokenizer().train(text, vocab_size).merges) == naive_train(text, vocab_size)


def test_step3_ties_go_to_the_smallest_pair():
    # (a, b) occurs twice; then (' ', ab), (' ', c) and (c, d) once each: (32, 99) is the smallest
    # pair with a count of 1 ((32, 256) has the larger second id).
    assert BPETokenizer().train("ab ab cd", 258).merges == {(97, 98): 256, (32, 99): 257}
    assert BPETokenizer().train("zy xw", 257).merges == {(32, 120): 256}


def test_step3_overlapping_pairs_are_counted_once_per_occurrence_and_updated_after_a_merge():
    # "aaaa" x3 holds (a, a) three times each; after the merge [aa, aa] holds (aa, aa) once each.
    text = "aaaa aaaa aaaa bcbc"
    tokenizer = BPETokenizer().train(text, 260)
    assert list(tokenizer.merges) == naive_train(text, 260)
    assert list(tokenizer.merges)[:2] == [(97, 97), (256, 256)]


def test_step3_apply_merge_does_its_docstring_example_and_the_overlap_case():
    words, counts = [[1, 1, 1], [1, 2]], [3, 1]
    pair_counts, holders = count_pairs(words, counts)
    assert apply_merge(words, 3, 0, (1, 1), 9, pair_counts, holders) is None
    assert words == [[9, 1], [1, 2]]
    assert dict(pair_counts) == {(1, 2): 1, (9, 1): 3}  # (1, 1)'s 6 all gone, none left at 0
    assert 0 in holders[(9, 1)] and holders[(1, 2)] == {1}
    # [a, a, a, a] x2: (a, a) three times each; merged [aa, aa] holds (aa, aa) once each.
    words, counts = [[5, 5, 5, 5], [5, 6]], [2, 1]
    pair_counts, holders = count_pairs(words, counts)
    apply_merge(words, 2, 0, (5, 5), 7, pair_counts, holders)
    assert words == [[7, 7], [5, 6]] and dict(pair_counts) == {(7, 7): 2, (5, 6): 1}
    # A word that does not hold the pair (a stale holder) changes nothing.
    apply_merge(words, 1, 1, (5, 5), 8, pair_counts, holders)
    assert words == [[7, 7], [5, 6]] and dict(pair_counts) == {(7, 7): 2, (5, 6): 1}


@given(
    st.lists(st.lists(st.integers(0, 3), max_size=8), min_size=1, max_size=6),
    st.lists(st.integers(1, 4), min_size=6, max_size=6),
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=4),
)
def test_step3_apply_merge_on_every_holder_keeps_the_counts_equal_to_a_recount(words, weights, pairs):
    counts = weights[: len(words)]
    pair_counts, holders = count_pairs(words, counts)
    for new_id, pair in enumerate(pairs, start=10):  # merge pairs in turn, as train would
        for w in holders.pop(pair, set()):
            apply_merge(words, counts[w], w, pair, new_id, pair_counts, holders)
        expected_counts, true_holders = recount(words, counts)
        assert dict(pair_counts) == expected_counts  # no pair left at 0
        for held, ws in true_holders.items():
            assert ws <= holders.get(held, set()), held  # every true holder is listed


def test_step3_train_counts_once_then_applies_each_merge_to_the_holders_only(monkeypatch):
    module = sys.modules[BPETokenizer.__module__]
    calls = {"count_pairs": 0, "apply_merge": []}
    real_count, real_apply = module.count_pairs, module.apply_merge

    def spy_count(words, counts):
        calls["count_pairs"] += 1
        calls["words"] = [list(word) for word in words]  # the pieces before any merge
        return real_count(words, counts)

    def spy_apply(words, count, w, pair, new_id, pair_counts, holders):
        calls["apply_merge"].append((w, pair))
        return real_apply(words, count, w, pair, new_id, pair_counts, holders)

    monkeypatch.setattr(module, "count_pairs", spy_count)
    monkeypatch.setattr(module, "apply_merge", spy_apply)
    # 53 distinct pieces, most merges held by a few: a code that touches every piece fails.
    text = " ".join(f"w{i:02d}q" for i in range(50)) + " zz zz zz"
    tokenizer = BPETokenizer().train(text, 266)
    assert calls["count_pairs"] == 1
    assert list(tokenizer.merges) == naive_train(text, 266)
    # Replay the merges on the pieces: each call is for a piece that held the pair at some
    # point (now or earlier: a stale holder), and every piece that holds it is called.
    words, ever_held = calls["words"], {}
    for w, word in enumerate(words):
        for pair in itertools.pairwise(word):
            ever_held.setdefault(pair, set()).add(w)
    for pair, new_id in tokenizer.merges.items():
        touched = [w for w, p in calls["apply_merge"] if p == pair]
        assert len(touched) == len(set(touched)) and set(touched) <= ever_held.get(pair, set()), pair
        assert {w for w, word in enumerate(words) if pair in itertools.pairwise(word)} <= set(touched), pair
        words = [naive_merge(word, pair, new_id) for word in words]
        for w, word in enumerate(words):
            for held in itertools.pairwise(word):
                ever_held.setdefault(held, set()).add(w)


def test_step3_special_tokens_take_the_first_ids_after_the_bytes_and_are_never_merged():
    text = CORPUS.replace("\n", EOT)
    tokenizer = BPETokenizer().train(text, 320, [EOT])
    assert tokenizer.special_tokens == [EOT] and tokenizer.vocab[256] == EOT.encode()
    assert list(tokenizer.merges) == naive_train(text, 320, special=EOT)
    assert min(tokenizer.merges.values()) == 257
    assert not any(b"<|" in tokenizer.vocab[i] or b"|>" in tokenizer.vocab[i] for i in tokenizer.merges.values())


def test_step3_the_vocabulary_holds_each_merge_as_the_bytes_of_its_pair(trained):
    assert trained.vocab_size == 320 == len(trained.vocab)
    assert all(trained.vocab[i] == bytes([i]) for i in range(256))
    for (a, b), new_id in trained.merges.items():
        assert trained.vocab[new_id] == trained.vocab[a] + trained.vocab[b]


def test_step3_vocab_size_may_be_a_numpy_int_and_a_refused_train_changes_nothing():
    assert BPETokenizer().train("ab ab cd", np.int64(258)).merges == {(97, 98): 256, (32, 99): 257}
    tokenizer = BPETokenizer().train("ab ab cd", 258, ["<s>"])
    before = (list(tokenizer.merges.items()), list(tokenizer.special_tokens), dict(tokenizer.vocab))
    for args in (("xy", 257, ["<a>", "<b>"]), ("xy", 300.0, ["<a>"]), ("xy", 300, ["<a>", "<a>"])):
        with pytest.raises((TypeError, ValueError)):
            tokenizer.train(*args)
        assert (list(tokenizer.merges.items()), list(tokenizer.special_tokens), dict(tokenizer.vocab)) == before


def test_step3_training_stops_when_every_piece_is_one_token_and_retraining_replaces_everything():
    tokenizer = BPETokenizer().train("ab ab", 1000, ["<s>"])
    assert tokenizer.merges == {(97, 98): 256 + 1, (32, 257): 258} and tokenizer.vocab_size == 259
    tokenizer.train("xy", 300)
    assert tokenizer.merges == {(120, 121): 256} and tokenizer.special_tokens == []
    assert tokenizer.vocab_size == 257


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("abc", 255), ValueError, r"vocab_size must be >= 256 \+ the number of special tokens \(256\), got 255"),
        (("abc", 257, ["<a>", "<b>"]), ValueError, r"\(258\), got 257"),
        ((b"abc", 300), TypeError, "text must be a str, got bytes"),
        (("abc", 300.0), TypeError, "vocab_size must be an int, got float"),
        (("abc", True), TypeError, "vocab_size must be an int, got bool"),
        (("abc", 300, "<s>"), TypeError, "special tokens must be a list of strs, got str"),
        (("abc", 300, [b"<s>"]), TypeError, "special tokens must be strs, got bytes at position 0"),
        (("abc", 300, ["<s>", "<s>"]), ValueError, "special tokens must be non-empty and distinct"),
        (("abc", 300, [""]), ValueError, "special tokens must be non-empty and distinct"),
    ],
    ids=[
        "too small",
        "too small for specials",
        "bytes",
        "float",
        "bool",
        "str specials",
        "bytes special",
        "repeated special",
        "empty special",
    ],
)
def test_step3_bad_arguments_are_refused_by_name(args, error, message):
    with pytest.raises(error, match=message):
        BPETokenizer().train(*args)


# --- step 4: encode and decode -------------------------------------------------------------------


@given(st.text(max_size=60))
def test_step4_decode_of_encode_is_any_unicode_text(trained_special, text):
    assert trained_special.decode(trained_special.encode(text)) == text


@pytest.mark.parametrize(
    "text",
    ["", "😀👍🏽👨‍👩‍👧", "e\u0301\u0302 a\u0308", "東京都の天気は晴れ", "สวัสดีครับ", "  \n\t x  ", "\x00"],
    ids=["empty", "emoji", "combining", "japanese", "thai", "spaces", "nul"],
)
def test_step4_decode_of_encode_is_the_text_for_hard_scripts(trained, text):
    assert trained.decode(trained.encode(text)) == text


def test_step4_encode_applies_the_merges_in_the_order_learned(trained):
    for text in (HELD_OUT, CORPUS, "aaaaaaa bbb"):
        assert trained.encode(text) == naive_encode(trained, text)


def test_step4_the_token_count_never_grows_as_merges_are_added():
    sizes = [256, 258, 262, 270, 290, 330, 400]
    tokenizers = [BPETokenizer().train(CORPUS, size) for size in sizes]
    for smaller, larger in itertools.pairwise(tokenizers):
        assert list(larger.merges)[: len(smaller.merges)] == list(smaller.merges)
    counts = [len(tokenizer.encode(HELD_OUT)) for tokenizer in tokenizers]
    assert counts == sorted(counts, reverse=True) and counts[0] == len(HELD_OUT.encode()) > counts[-1]
    assert all(len(t.encode(CORPUS)) >= len(u.encode(CORPUS)) for t, u in itertools.pairwise(tokenizers))


def test_step4_the_bytes_of_every_merge_encode_as_that_one_token(trained):
    checked = 0
    for new_id in trained.merges.values():
        try:
            text = trained.vocab[new_id].decode("utf-8")
        except UnicodeDecodeError:
            continue  # part of a character: no text has exactly these bytes
        if len(pretokenize(text)) == 1:  # the pre-tokenizer keeps it one piece
            assert trained.encode(text) == [new_id], text
            checked += 1
    assert checked >= 30


def test_step4_special_tokens_survive_verbatim_and_are_never_merged(trained_special):
    eot, pad = 256, 257
    text = f"{EOT}the cat{EOT}{EOT}sat<pad>on <pad> the{EOT}"
    ids = trained_special.encode(text)
    assert ids.count(eot) == 4 and ids.count(pad) == 2
    assert trained_special.decode(ids) == text
    assert ids[0] == eot and ids[-1] == eot
    # Between special tokens: exactly the encoding of the text there.
    expected = []
    for part in re.split(r"(<\|endoftext\|>|<pad>)", text):
        if part == EOT or part == "<pad>":
            expected.append(eot if part == EOT else pad)
        else:
            expected.extend(trained_special.encode(part))
    assert ids == expected


def test_step4_of_overlapping_special_tokens_the_longest_is_one_token():
    tokenizer = BPETokenizer().train("hello world", 270, [EOT, EOT + EOT])
    assert tokenizer.encode(f"a{EOT}{EOT}{EOT}") == [97, 257, 256]
    assert tokenizer.decode([97, 257, 256]) == f"a{EOT}{EOT}{EOT}"


def test_step4_a_special_token_not_registered_is_ordinary_text(trained):
    ids = trained.encode(EOT)
    assert len(ids) > 1 and trained.decode(ids) == EOT and max(ids) < trained.vocab_size


def test_step4_decode_joins_the_bytes_before_decoding_a_character_spread_over_tokens():
    tokenizer = BPETokenizer()
    assert tokenizer.decode([240, 159, 152, 128]) == "😀"
    assert tokenizer.decode(np.array([104, 195, 169])) == "hé"
    assert tokenizer.decode([104, 240, 159]) == "h\ufffd"  # a character cut short: replaced
    assert tokenizer.decode([]) == ""


def test_step4_encode_piece_merges_at_most_once_per_token_it_removes(trained, monkeypatch):
    # The contract: repeatedly merge the first-learned pair present (merge_pair), so a piece of L
    # bytes that ends as n ids costs at most L - n calls. Applying every merge in turn instead
    # costs one call per merge (64 here) whatever the piece: far too slow for a stream.
    module = sys.modules[BPETokenizer.__module__]
    calls = []
    real_merge = module.merge_pair

    def spy_merge(ids, pair, new_id):
        calls.append(pair)
        return real_merge(ids, pair, new_id)

    monkeypatch.setattr(module, "merge_pair", spy_merge)
    for piece in ("~" * 1000, " the", " thought", "aaaaaaa"):
        calls.clear()
        ids = trained.encode_piece(piece)
        assert ids == naive_encode(trained, piece)
        assert len(calls) <= len(piece.encode("utf-8")) - len(ids), (piece, len(calls))


def test_step4_without_merges_every_byte_is_one_token():
    text = "héllo 😀"
    assert BPETokenizer().encode(text) == list(text.encode("utf-8"))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda t: t.decode([0, t.vocab_size]), ValueError, r"ids must be in 0..319, got 320 at position 1"),
        (lambda t: t.decode([-1]), ValueError, r"ids must be in 0..319, got -1 at position 0"),
        (lambda t: t.decode(["a"]), TypeError, "ids must be ints, got str at position 0"),
        (lambda t: t.decode([1.0]), TypeError, "ids must be ints, got float"),
        (lambda t: t.encode(b"abc"), TypeError, "text must be a str, got bytes"),
    ],
    ids=["id too large", "negative id", "str id", "float id", "bytes text"],
)
def test_step4_bad_arguments_are_refused_by_name(trained, call, error, message):
    with pytest.raises(error, match=message):
        call(trained)


# --- step 5: streaming ---------------------------------------------------------------------------


@given(st.lists(st.text(max_size=20).map(lambda s: s + "\n"), max_size=8))
def test_step5_encode_iterable_is_encode_of_each_line_in_turn(trained_special, lines):
    ids = list(trained_special.encode_iterable(iter(lines)))
    assert ids == [i for line in lines for i in trained_special.encode(line)]
    assert trained_special.decode(ids) == "".join(lines)


def test_step5_ids_come_out_before_the_stream_is_read_to_its_end(trained):
    read = []

    def lines():
        for i in itertools.count():
            if i == 1000:  # a code that reads it all would never stop: fail instead
                raise RuntimeError("the stream was read 1000 lines ahead of the ids")
            read.append(i)
            yield "the cat sat on the mat\n"

    ids = trained.encode_iterable(lines())  # an endless stream, for a code that reads lazily
    first = [next(ids) for _ in range(3)]
    assert first == trained.encode("the cat sat on the mat\n")[:3]
    assert len(read) == 1


def test_step5_a_file_is_a_stream_of_lines(trained, tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(CORPUS, encoding="utf-8")
    with open(path, encoding="utf-8") as file:
        ids = list(trained.encode_iterable(file))
    assert trained.decode(ids) == CORPUS


def test_step5_bad_streams_are_refused_by_name(trained):
    with pytest.raises(TypeError, match="lines must be an iterable of strs, got str"):
        trained.encode_iterable("the cat")
    with pytest.raises(TypeError, match="each line must be a str, got bytes at line 2"):
        list(trained.encode_iterable(["ok\n", b"no\n"]))


WORDS = "the cat sat on the mat, then they thought about the theme 😀 "  # 62 bytes
RUN = 960  # a run of "~" (no merge holds it): cheap to encode, so that megabytes stream fast
LINE_BYTES = 8 + len(WORDS.encode()) + RUN + 1  # 1031


def generated_stream(nbytes: int):
    """Numbered lines of LINE_BYTES bytes, made one at a time: ``nbytes`` in all, never held."""
    for i in range(nbytes // LINE_BYTES):
        yield f"{i:07d} {WORDS}{'~' * RUN}\n"


@pytest.fixture(scope="module")
def streamed() -> BPETokenizer:
    tokenizer = BPETokenizer().train(WORDS * 4, 280, [EOT])
    list(tokenizer.encode_iterable(generated_stream(10_000)))  # warm up: regex caches, small ints
    return tokenizer


# One line of L = 1031 bytes in flight: its str and bytes (L each), its pieces, the list of a
# piece's ids and the line's ids (8 bytes per id), even the L - 1 adjacent pairs as tuples
# (64 bytes each, if you build them all): under 128 bytes per byte of the line, 129 KiB. So the
# budget is 128 · L bytes plus the default slack (64 KiB), for a stream of 1 MB and one of
# 2 MB alike. Holding the stream's ids instead would take 8 bytes per id: 8 MB for 1 MB of
# text; holding its text, 1 MB.
@pytest.mark.parametrize("megabytes", [1, 2])
@memory_budget(128 * LINE_BYTES, slack=DEFAULT_SLACK)
def test_step5_encode_iterable_holds_one_line_at_a_time_whatever_the_stream_length(streamed, megabytes):
    count = 0
    for _ in streamed.encode_iterable(generated_stream(megabytes * 1_000_000)):
        count += 1
    assert count > megabytes * 1_000_000 * 0.9  # the run is one id per byte


# --- step 6: saving and loading ------------------------------------------------------------------


def test_step6_a_save_load_round_trip_encodes_identically(trained_special, tmp_path):
    path = tmp_path / "bpe.txt"
    trained_special.save(path)
    loaded = BPETokenizer().load(str(path))
    assert loaded.special_tokens == trained_special.special_tokens
    assert list(loaded.merges.items()) == list(trained_special.merges.items())
    assert loaded.vocab == trained_special.vocab
    for text in (HELD_OUT, CORPUS, f"x{EOT}<pad>y"):
        assert loaded.encode(text) == trained_special.encode(text)


def test_step6_the_file_is_the_documented_plain_text(trained_special, tmp_path):
    path = tmp_path / "bpe.txt"
    trained_special.save(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    expected = ["tinytorch-bpe v1", f'special "{EOT}"', 'special "<pad>"']
    expected += [f"merge {a} {b}" for a, b in trained_special.merges]
    assert lines == expected


def test_step6_special_tokens_with_quotes_newlines_and_spaces_survive_a_round_trip(tmp_path):
    # "\u2028" and "\x85" are line breaks to str.splitlines: json.dumps's default ensure_ascii
    # writes them as \\u escapes, so each special token stays on its one line.
    specials = ['say "hi"', "two\nlines", " spaced ", "é😀", "a\u2028b", "c\x85d", "e\rf"]
    tokenizer = BPETokenizer().train("hello hello world", 270, specials)
    tokenizer.save(tmp_path / "bpe.txt")
    assert (tmp_path / "bpe.txt").read_bytes().isascii()
    loaded = BPETokenizer().load(tmp_path / "bpe.txt")
    assert loaded.special_tokens == specials
    text = "".join(specials) + "hello"
    expected = [*range(256, 256 + len(specials)), *tokenizer.encode("hello")]
    assert loaded.encode(text) == tokenizer.encode(text) == expected


def test_step6_saving_twice_to_one_path_overwrites_the_file(trained, tmp_path):
    path = tmp_path / "bpe.txt"
    BPETokenizer().train("zz zz zz", 300, ["<s>"]).save(path)
    trained.save(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == ["tinytorch-bpe v1", *(f"merge {a} {b}" for a, b in trained.merges)]
    assert BPETokenizer().load(path).merges == trained.merges


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", r"line 1 must be 'tinytorch-bpe v1', got ''"),
        ("tinytorch-bpe v2\n", r"line 1 must be 'tinytorch-bpe v1', got 'tinytorch-bpe v2'"),
        (
            "tinytorch-bpe v1\nmerge 97\n",
            r"line 2 must be 'special <JSON string>' or 'merge <id> <id>', got 'merge 97'",
        ),
        ("tinytorch-bpe v1\nmerge 97 98\n\n", r"line 3 must be 'special"),
        ("tinytorch-bpe v1\nmerge 97 x\n", r"line 2 must be 'special"),
        ("tinytorch-bpe v1\nmerge -1 98\n", r"line 2 must be 'special"),
        ("tinytorch-bpe v1\nspecial <s>\n", r"line 2 must be 'special"),
        ('tinytorch-bpe v1\nspecial ""\n', r"line 2 must be 'special"),
        ("tinytorch-bpe v1\nspecial 5\n", r"line 2 must be 'special"),
        ("tinytorch-bpe v1\nmerge 97 98\nmerge 256 257\n", r"line 3 must merge ids below 257, got 'merge 256 257'"),
        ('tinytorch-bpe v1\nspecial "<s>"\nmerge 97 257\n', r"line 3 must merge ids below 257"),
        (
            "tinytorch-bpe v1\nmerge 97 98\nmerge 97 98\n",
            r"line 3 must be a new special token or merge, got 'merge 97 98'",
        ),
        (
            'tinytorch-bpe v1\nspecial "<s>"\nspecial "<s>"\n',
            r"""line 3 must be a new special token or merge, got 'special "<s>"'""",
        ),
        (
            'tinytorch-bpe v1\nmerge 97 98\nspecial "<s>"\n',
            r"""line 3 must not be a special token after a merge, got 'special "<s>"'""",
        ),
        (
            'tinytorch-bpe v1\nspecial "<s>"\nmerge 256 97\n',
            r"line 3 must not merge a special token's id, got 'merge 256 97'",
        ),
        (
            'tinytorch-bpe v1\nspecial "<s>"\nmerge 97 98\nmerge 257 256\n',
            r"line 4 must not merge a special token's id",
        ),
    ],
    ids=[
        "empty",
        "version",
        "one id",
        "blank line",
        "not an int",
        "negative",
        "not json",
        "empty special",
        "json number",
        "future id",
        "future id after special",
        "repeated merge",
        "repeated special",
        "special after merge",
        "merges a special",
        "merges a special second",
    ],
)
def test_step6_a_malformed_file_is_an_error_naming_the_line_and_changes_nothing(trained, tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    tokenizer = BPETokenizer().train(CORPUS, 300, ["<t>", "<u>"])  # not the files' "<s>"
    before = (list(tokenizer.merges.items()), list(tokenizer.special_tokens), dict(tokenizer.vocab))
    with pytest.raises(ValueError, match=message):
        tokenizer.load(path)
    assert (list(tokenizer.merges.items()), list(tokenizer.special_tokens), dict(tokenizer.vocab)) == before
    assert tokenizer.encode(HELD_OUT + "<u><s>") == [*naive_encode(tokenizer, HELD_OUT), 257, 60, 115, 62]


def test_step6_loading_replaces_the_whole_state(trained, tmp_path):
    trained.save(tmp_path / "bpe.txt")
    tokenizer = BPETokenizer().train("zz zz zz", 300, ["<s>"])
    tokenizer.load(tmp_path / "bpe.txt")
    assert tokenizer.special_tokens == [] and tokenizer.vocab_size == trained.vocab_size
    assert tokenizer.encode(HELD_OUT) == trained.encode(HELD_OUT)
