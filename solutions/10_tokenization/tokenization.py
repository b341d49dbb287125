"""10 tokenization: characters and byte-pair encoding, from text to integer ids and back.

A language model reads integers. A tokenizer turns text into ids (``encode``) and ids back into
text (``decode``). ``CharTokenizer`` gives each distinct character of a text one id: a tiny
vocabulary, but one id per character, so sequences are long. ``BPETokenizer`` starts from the
256 byte values (any Unicode text is a sequence of UTF-8 bytes, so nothing is ever unknown) and
*learns* merges: the most frequent adjacent pair of tokens becomes a new token, again and again.
Each merge adds one row to the embedding table and shortens every sequence that contains it:
the trade between vocabulary size, sequence length and embedding bytes that this kata measures.

Ids of a ``BPETokenizer`` with S special tokens and M merges:
    0 .. 255                    the byte values
    256 .. 256 + S - 1          the special tokens, in the order given to ``train``
    256 + S .. 256 + S + M - 1  the merges, in the order they were learned

Errors follow one rule: a value of the wrong type (bytes where a str is expected, a float id) is
a TypeError; a value of the right type that breaks the rule (an id out of range, an unknown
character, a vocabulary too small) is a ValueError; a malformed saved file is a ValueError
naming the line.
"""

from __future__ import annotations

import itertools
import json
import numbers
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

# --- given: checks and the pre-tokenizer ---------------------------------------------------


def check_text(op: str, text: object) -> str:
    """Given: ``text`` if it is a str; a TypeError naming ``op`` otherwise.

    Raises:
        TypeError: ``"BPETokenizer.encode: text must be a str, got bytes"``.
    Example:
        >>> check_text("CharTokenizer", "hi")
        'hi'
    """
    if not isinstance(text, str):
        raise TypeError(f"{op}: text must be a str, got {type(text).__name__}")
    return text


def check_ids(op: str, ids: Iterable[int], size: int) -> list[int]:
    """Given: ``ids`` as a list of Python ints, each checked to be an int in ``0 .. size - 1``.

    NumPy integers are accepted (an array of ids from a model); bools are not ids.

    Raises:
        TypeError: ``"BPETokenizer.decode: ids must be ints, got str at position 0"``.
        ValueError: ``"BPETokenizer.decode: ids must be in 0..299, got 300 at position 4"``.
    Example:
        >>> check_ids("CharTokenizer.decode", [2, 0], 3)
        [2, 0]
    """
    checked = []
    for position, token in enumerate(ids):
        if not isinstance(token, numbers.Integral) or isinstance(token, bool):
            raise TypeError(f"{op}: ids must be ints, got {type(token).__name__} at position {position}")
        if not 0 <= token < size:
            raise ValueError(f"{op}: ids must be in 0..{size - 1}, got {token} at position {position}")
        checked.append(int(token))
    return checked


# A word with the one space before it, a run of punctuation with the one space before it, or
# whitespace. The alternatives cover every character (each one is \w, \s or neither), so the
# pieces of a text, joined, are the text. `\s+(?!\S)` leaves the last space of a run for the
# word that follows it: "a  b" -> "a", " ", " b".
PRETOKEN = re.compile(r" ?\w+| ?[^\w\s]+|\s+(?!\S)|\s+")


def pretokenize(text: str) -> list[str]:
    """Given: the pieces of ``text`` that merges never cross (GPT-2's split, standard ``re`` only).

    Joined, the pieces are ``text``. A script without spaces (Chinese, Thai) is one piece per
    run of letters; combining marks and emoji are not ``\\w`` and go with the punctuation.

    Example:
        >>> pretokenize("Hello, world!  Ok")
        ['Hello', ',', ' world', '!', ' ', ' Ok']
    """
    return PRETOKEN.findall(text)


def check_special_tokens(op: str, special_tokens: Iterable[str]) -> list[str]:
    """Given: the special tokens as a list, checked: non-empty strs, no two alike.

    Raises:
        TypeError: ``"BPETokenizer.train: special tokens must be strs, got bytes at position 0"``
            (also for a str given instead of a list of them: ``got str``).
        ValueError: ``"BPETokenizer.train: special tokens must be non-empty and distinct, got
            ['<a>', '<a>']"``.
    Example:
        >>> check_special_tokens("BPETokenizer.train", ("<|endoftext|>",))
        ['<|endoftext|>']
    """
    if isinstance(special_tokens, str):
        raise TypeError(f"{op}: special tokens must be a list of strs, got str")
    tokens = list(special_tokens)
    for position, token in enumerate(tokens):
        if not isinstance(token, str):
            raise TypeError(f"{op}: special tokens must be strs, got {type(token).__name__} at position {position}")
    if "" in tokens or len(set(tokens)) != len(tokens):
        raise ValueError(f"{op}: special tokens must be non-empty and distinct, got {tokens}")
    return tokens


# --- step 1: CharTokenizer -------------------------------------------------------------------


class CharTokenizer:
    """One id per distinct character of a text: ids 0 .. C - 1 in sorted character order."""

    def __init__(self, text: str, unk: bool = False) -> None:
        """Build the vocabulary of ``text``: its distinct characters, sorted by code point.

        Sets ``self.chars`` (the C sorted characters; character ``self.chars[i]`` has id i) and
        ``self.unk_id``: None, or C when ``unk`` is True (one extra id for any character not in
        ``text``; it decodes to U+FFFD, the replacement character "\ufffd").

        Args:
            text: any str (the empty one gives an empty vocabulary).
            unk: whether unknown characters encode to ``unk_id`` instead of being an error.
        Raises:
            TypeError: ``"CharTokenizer: text must be a str, got bytes"``;
                ``"CharTokenizer: unk must be a bool, got int"``.
        Complexity:
            O(N log N) time for N characters; O(C) memory.
        Example:
            >>> tokenizer = CharTokenizer("hello")
            >>> tokenizer.chars, tokenizer.unk_id, tokenizer.vocab_size
            (['e', 'h', 'l', 'o'], None, 4)
        """
        # solution: step 1
        check_text("CharTokenizer", text)
        if not isinstance(unk, bool):
            raise TypeError(f"CharTokenizer: unk must be a bool, got {type(unk).__name__}")
        self.chars = sorted(set(text))
        self.ids = {char: i for i, char in enumerate(self.chars)}
        self.unk_id = len(self.chars) if unk else None

    @property
    def vocab_size(self) -> int:
        """Given: the number of ids, C (+ 1 with ``unk``)."""
        return len(self.chars) + (self.unk_id is not None)

    def encode(self, text: str) -> list[int]:
        """The id of each character of ``text``, in order.

        Args:
            text: a str of N characters.
        Returns:
            N ints in ``0 .. vocab_size - 1``.
        Raises:
            TypeError: ``"CharTokenizer.encode: text must be a str, got bytes"``.
            ValueError: ``"CharTokenizer.encode: every character must be in the vocabulary, got
                'z' at position 3"`` (only without ``unk``: with it, ``unk_id`` stands in).
        Complexity:
            O(N) time and memory.
        Example:
            >>> CharTokenizer("hello").encode("hole")
            [1, 3, 2, 0]
            >>> CharTokenizer("hello", unk=True).encode("hi")
            [1, 4]
        """
        # solution: step 1
        check_text("CharTokenizer.encode", text)
        ids = []
        for position, char in enumerate(text):
            if char in self.ids:
                ids.append(self.ids[char])
            elif self.unk_id is not None:
                ids.append(self.unk_id)
            else:
                raise ValueError(
                    "CharTokenizer.encode: every character must be in the vocabulary, "
                    f"got {char!r} at position {position}"
                )
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``: their characters joined (``unk_id`` gives "\ufffd").

        Args:
            ids: N ints (Python or NumPy) in ``0 .. vocab_size - 1``.
        Returns:
            A str of N characters.
        Raises:
            TypeError: ``"CharTokenizer.decode: ids must be ints, got str at position 0"``.
            ValueError: ``"CharTokenizer.decode: ids must be in 0..3, got 4 at position 1"``.
        Complexity:
            O(N) time and memory.
        Example:
            >>> CharTokenizer("hello").decode([1, 3, 2, 0])
            'hole'
        """
        # solution: step 1
        checked = check_ids("CharTokenizer.decode", ids, self.vocab_size)
        return "".join(self.chars[i] if i != self.unk_id else "\ufffd" for i in checked)


# --- step 2: special tokens and one merge ----------------------------------------------------


def split_special_tokens(text: str, special_tokens: list[str]) -> list[tuple[str, bool]]:
    """Cut ``text`` at its special tokens: ``(chunk, is_special)`` pairs that join back to ``text``.

    Scanning left to right, at each position the *longest* special token that starts there is
    taken (so of "<|endoftext|>" and "<|endoftext|><|endoftext|>" the second wins where both
    match); a special token found is one chunk ``(token, True)``. The text between special tokens
    is a chunk ``(text, False)``; empty ones are left out.

    Args:
        text: a str.
        special_tokens: distinct non-empty strs (maybe none).
    Returns:
        The chunks in order; ``[(text, False)]`` without special tokens, ``[]`` for "".
    Complexity:
        O(N · S) time for N characters and S special tokens (a regular expression with one
        alternative per token); O(N) memory.
    Example:
        >>> split_special_tokens("a<|e|><|e|>b", ["<|e|>", "<|e|><|e|>"])
        [('a', False), ('<|e|><|e|>', True), ('b', False)]
    """
    # solution: step 2
    if not special_tokens:
        return [(text, False)] if text else []
    # NOTE: `re` tries alternatives left to right at each position and takes the first that
    # matches, so listing the longer tokens first makes the longest one win.
    longest_first = sorted(special_tokens, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(token) for token in longest_first))
    chunks = []
    start = 0
    for match in pattern.finditer(text):
        if match.start() > start:
            chunks.append((text[start : match.start()], False))
        chunks.append((match.group(), True))
        start = match.end()
    if start < len(text):
        chunks.append((text[start:], False))
    return chunks


def merge_pair(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """``ids`` with every occurrence of ``pair`` replaced by ``new_id``, scanning left to right.

    Occurrences do not overlap: in [a, a, a] the pair (a, a) is found at 0, then the scan goes
    on after it, so the result is [new_id, a].

    Args:
        ids: N ints.
        pair: two ints (a, b).
        new_id: the id that replaces each a followed by b.
    Returns:
        A new list of at most N ints (``ids`` is not changed).
    Complexity:
        O(N) time and memory.
    Example:
        >>> merge_pair([5, 5, 5, 6, 5, 5], (5, 5), 9)
        [9, 5, 6, 9]
    """
    # solution: step 2
    merged = []
    i = 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            merged.append(new_id)
            i += 2
        else:
            merged.append(ids[i])
            i += 1
    return merged


# --- steps 3 to 6: BPETokenizer --------------------------------------------------------------


class BPETokenizer:
    """Byte-level byte-pair encoding: 256 byte tokens, special tokens, then learned merges."""

    def __init__(self) -> None:
        """Given: a tokenizer with no merges and no special tokens: one id per byte value.

        State (what ``train`` and ``load`` set, and what ``save`` writes):
            ``special_tokens``: list of S strs, token ``special_tokens[k]`` has id 256 + k.
            ``merges``: dict ``(a, b) -> id`` in the order learned; the k-th has id 256 + S + k.
            ``vocab``: dict ``id -> bytes`` for every id: ``bytes([i])`` for a byte, the UTF-8
            bytes of a special token, ``vocab[a] + vocab[b]`` for the merge of (a, b).
        """
        self.special_tokens: list[str] = []
        self.merges: dict[tuple[int, int], int] = {}
        self.vocab: dict[int, bytes] = {i: bytes([i]) for i in range(256)}

    @property
    def vocab_size(self) -> int:
        """Given: the number of ids, 256 + S + M."""
        return len(self.vocab)

    def train(self, text: str, vocab_size: int, special_tokens: Iterable[str] = ()) -> BPETokenizer:
        """Learn up to ``vocab_size - 256 - S`` merges from ``text``, replacing the current state.

        The text is cut at its special tokens (``split_special_tokens``: they are never merged),
        each other chunk is cut into pieces (``pretokenize``: merges never cross pieces), and
        each piece becomes the list of its UTF-8 bytes. Then, M times: count every adjacent pair
        of tokens over all pieces (a piece that occurs k times counts k times; [a, a, a] holds
        the pair (a, a) twice), take the pair with the largest count, **ties broken by the
        smallest pair** (compare a, then b, as ids), give it the next id, and replace its
        occurrences in every piece (``merge_pair``: left to right, not overlapping). Training
        stops early when no pair is left (every piece is one token): the vocabulary is then
        smaller than ``vocab_size``.

        The counts are kept up to date, not recounted: a merge changes only the pieces that
        contain its pair, so only their pairs are subtracted (before) and added (after). In
        code: ``count_pairs`` is called once, before the first merge; then each merge of
        ``pair`` calls ``apply_merge`` once for each piece in ``holders.pop(pair)`` (the
        pieces that hold the pair, and maybe some stale ones that held it earlier), and for no
        other piece. A refused call (any error below) leaves the tokenizer as it was.

        Args:
            text: the training text, a str of N characters.
            vocab_size: V >= 256 + S, an int (Python or NumPy, not a bool): the vocabulary
                size to reach.
            special_tokens: S distinct non-empty strs, ids 256 .. 256 + S - 1 in this order.
        Returns:
            ``self``, trained.
        Raises:
            TypeError: ``"BPETokenizer.train: text must be a str, got bytes"``;
                ``"BPETokenizer.train: vocab_size must be an int, got float"`` (also a bool);
                ``check_special_tokens``'s errors.
            ValueError: ``"BPETokenizer.train: vocab_size must be >= 256 + the number of special
                tokens (257), got 200"``; ``check_special_tokens``'s errors.
        Complexity:
            Counting: O(N) time. Each merge: O(P) to find the best of P distinct pairs, plus
            O(length) for each distinct piece that holds the pair. Memory O(N): the distinct
            pieces, the pair counts and, per pair, the set of pieces that hold it.
        Example:
            >>> tokenizer = BPETokenizer().train("ab ab cd", 258)  # (a, b) twice, then a tie of 1s
            >>> tokenizer.merges
            {(97, 98): 256, (32, 99): 257}
        """
        # solution: step 3
        check_text("BPETokenizer.train", text)
        specials = check_special_tokens("BPETokenizer.train", special_tokens)
        if not isinstance(vocab_size, numbers.Integral) or isinstance(vocab_size, bool):
            raise TypeError(f"BPETokenizer.train: vocab_size must be an int, got {type(vocab_size).__name__}")
        smallest = 256 + len(specials)
        if vocab_size < smallest:
            raise ValueError(
                "BPETokenizer.train: vocab_size must be >= 256 + the number of special tokens "
                f"({smallest}), got {vocab_size}"
            )
        piece_counts = Counter()
        for chunk, is_special in split_special_tokens(text, specials):
            if not is_special:
                piece_counts.update(pretokenize(chunk))
        words = [list(piece.encode("utf-8")) for piece in piece_counts]  # distinct pieces, as ids
        counts = list(piece_counts.values())  # how often each occurs
        pair_counts, holders = count_pairs(words, counts)
        vocab = {i: bytes([i]) for i in range(256)}
        for k, token in enumerate(specials):
            vocab[256 + k] = token.encode("utf-8")
        merges = {}
        for new_id in range(smallest, vocab_size):
            if not pair_counts:
                break  # every piece is one token
            pair = max(pair_counts, key=lambda p: (pair_counts[p], -p[0], -p[1]))  # tie: smallest pair
            for w in holders.pop(pair):
                apply_merge(words, counts[w], w, pair, new_id, pair_counts, holders)
            merges[pair] = new_id
            vocab[new_id] = vocab[pair[0]] + vocab[pair[1]]
        self.special_tokens, self.merges, self.vocab = specials, merges, vocab
        return self

    # --- step 4: encode and decode

    def encode_piece(self, piece: str) -> list[int]:
        """The ids of one pre-token ``piece``: its UTF-8 bytes, merged as training merged them.

        Repeat: among the adjacent pairs that are merges, take the one learned first (the
        smallest new id) and replace all its occurrences (``merge_pair``); stop when no adjacent
        pair is a merge. This applies the merges in the order they were learned, as ``train`` did.

        Args:
            piece: a str of L UTF-8 bytes (one piece of ``pretokenize``).
        Returns:
            At most L ids.
        Complexity:
            O(L²) time (at most L - 1 merges, each a pass over the piece); O(L) memory.
        Example:
            >>> BPETokenizer().train("ab ab cd", 258).encode_piece(" cd")
            [257, 100]
        """
        # solution: step 4
        ids = list(piece.encode("utf-8"))
        while len(ids) >= 2:
            pairs = [pair for pair in itertools.pairwise(ids) if pair in self.merges]
            if not pairs:
                break
            first = min(pairs, key=lambda pair: self.merges[pair])
            ids = merge_pair(ids, first, self.merges[first])
        return ids

    def encode(self, text: str) -> list[int]:
        """The ids of ``text``: special tokens as their ids, every other piece by ``encode_piece``.

        The text is cut with ``split_special_tokens`` (longest special token first), the other
        chunks with ``pretokenize``.

        Args:
            text: a str of N characters.
        Returns:
            The ids, at most as many as the text's UTF-8 bytes.
        Raises:
            TypeError: ``"BPETokenizer.encode: text must be a str, got bytes"``.
        Complexity:
            O(N · L) time for pieces of at most L bytes; O(N) memory.
        Example:
            >>> tokenizer = BPETokenizer().train("ab ab cd", 259, ["<s>"])
            >>> tokenizer.encode("ab<s> cd")
            [257, 256, 258, 100]
        """
        # solution: step 4
        check_text("BPETokenizer.encode", text)
        ids = []
        for chunk, is_special in split_special_tokens(text, self.special_tokens):
            if is_special:
                ids.append(256 + self.special_tokens.index(chunk))
            else:
                for piece in pretokenize(chunk):
                    ids.extend(self.encode_piece(piece))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``: their bytes joined, *then* decoded as UTF-8.

        A character's bytes may be spread over several tokens, so tokens are never decoded one
        by one. Bytes that are not valid UTF-8 (a sequence cut in the middle of a character)
        become "\ufffd" (``errors="replace"``).

        Args:
            ids: N ints (Python or NumPy) in ``0 .. vocab_size - 1``.
        Returns:
            A str.
        Raises:
            TypeError: ``"BPETokenizer.decode: ids must be ints, got str at position 0"``.
            ValueError: ``"BPETokenizer.decode: ids must be in 0..257, got 300 at position 1"``.
        Complexity:
            O(N + bytes) time and memory.
        Example:
            >>> BPETokenizer().decode([104, 105, 240, 159, 152, 128])
            'hi😀'
        """
        # solution: step 4
        checked = check_ids("BPETokenizer.decode", ids, self.vocab_size)
        return b"".join(self.vocab[i] for i in checked).decode("utf-8", errors="replace")

    # --- step 5: streaming

    def encode_iterable(self, lines: Iterable[str]) -> Iterator[int]:
        """Yield the ids of a stream of strs, one chunk at a time: ``encode(line)`` for each line.

        Reads one line, yields its ids, then reads the next: a file of any size is encoded in
        the memory of its longest line. Each line is encoded on its own, so a special token or
        a piece that spans two lines is not joined (``decode`` of all the ids is still the
        whole text). A line of a file ends in "\\n": whitespace pieces stop there.

        Args:
            lines: an iterable of strs (an open text file, a generator, a list); not a str.
        Returns:
            A generator of ids: the concatenation of ``encode(line)`` over the lines.
        Raises:
            TypeError: ``"BPETokenizer.encode_iterable: lines must be an iterable of strs, got
                str"`` (when the generator is made); ``"BPETokenizer.encode_iterable: each line
                must be a str, got bytes at line 2"`` (when that line is reached; counted from 1).
        Complexity:
            O(total length · L) time; O(longest line) memory.
        Example:
            >>> list(BPETokenizer().train("ab ab cd", 258).encode_iterable(["ab\\n", " cd"]))
            [256, 10, 257, 100]
        """
        # solution: step 5
        if isinstance(lines, (str, bytes)):
            raise TypeError(
                f"BPETokenizer.encode_iterable: lines must be an iterable of strs, got {type(lines).__name__}"
            )
        return self._encode_lines(lines)

    def _encode_lines(self, lines: Iterable[str]) -> Iterator[int]:
        """The generator behind ``encode_iterable``: for each line, check it, yield ``encode(line)``.

        A separate generator so that ``encode_iterable`` refuses a str when it is called, not
        when the first id is asked for (a generator function runs no code until then).

        Args:
            lines: an iterable of strs, read one at a time.
        Returns:
            A generator of ids.
        Raises:
            TypeError: ``"BPETokenizer.encode_iterable: each line must be a str, got bytes at line 2"``.
        Complexity:
            O(longest line) memory.
        Example:
            >>> list(BPETokenizer()._encode_lines(iter(["a\\n", "b"])))
            [97, 10, 98]
        """
        # solution: step 5
        for number, line in enumerate(lines, start=1):
            if not isinstance(line, str):
                raise TypeError(
                    f"BPETokenizer.encode_iterable: each line must be a str, got {type(line).__name__} at line {number}"
                )
            yield from self.encode(line)

    # --- step 6: saving and loading

    def save(self, path: str | Path) -> None:
        """Write the special tokens and the merges to ``path`` as UTF-8 text, one per line.

        The format, which ``load`` reads (the byte tokens and ``vocab`` follow from it):

            tinytorch-bpe v1
            special "<|endoftext|>"        one line per special token, in id order, as JSON
            merge 104 101                  one line per merge, in id order: the pair's two ids

        A special token's line is ``"special " + json.dumps(token)``: JSON's default
        ``ensure_ascii=True`` writes every non-ASCII character as ``\\uXXXX``, so the line is
        ASCII and no character of the token ("\\n", "\\u2028", "\\x85") can split it.

        Args:
            path: a file path (str or Path); the file is overwritten (truncated), not appended to.
        Complexity:
            O(S + M) time; the file is written line by line.
        Example:
            >>> import tempfile, os
            >>> path = os.path.join(tempfile.mkdtemp(), "bpe.txt")
            >>> BPETokenizer().train("ab ab cd", 258, ["<s>"]).save(path)
            >>> open(path, encoding="utf-8").read().splitlines()
            ['tinytorch-bpe v1', 'special "<s>"', 'merge 97 98']
        """
        # solution: step 6
        with open(path, "w", encoding="utf-8") as file:
            file.write(HEADER + "\n")
            for token in self.special_tokens:
                file.write(f"special {json.dumps(token)}\n")
            for a, b in self.merges:
                file.write(f"merge {a} {b}\n")

    def load(self, path: str | Path) -> BPETokenizer:
        """Read a file written by ``save`` and take its special tokens and merges (and vocab).

        The whole file is read and checked before anything changes: a malformed file leaves
        the tokenizer as it was. Lines are counted from 1.

        Args:
            path: a file path (str or Path), UTF-8 text.
        Returns:
            ``self``, with the file's state.
        Raises:
            ValueError, naming the line:
                ``"BPETokenizer.load: line 1 must be 'tinytorch-bpe v1', got 'hello'"`` (an
                empty file: ``got ''``);
                ``"BPETokenizer.load: line 3 must be 'special <JSON string>' or 'merge <id>
                <id>', got 'merge 97'"`` (anything else: a blank line, a word, a number that is
                not an int, JSON that is not a non-empty string);
                ``"BPETokenizer.load: line 4 must merge ids below 257, got 'merge 97 300'"``
                (a merge may only use the ids before its own);
                ``"BPETokenizer.load: line 3 must not merge a special token's id, got 'merge
                256 97'"`` (after one special token: training never merges one);
                ``"BPETokenizer.load: line 3 must be a new special token or merge, got 'merge
                97 98'"`` (the line repeats an earlier one);
                ``"BPETokenizer.load: line 5 must not be a special token after a merge, got
                'special "<s>"'"``.
            UnicodeDecodeError, OSError: from Python, for a file that is not UTF-8 or not there.
        Complexity:
            O(S + M) time and memory.
        Example:
            >>> import tempfile, os
            >>> path = os.path.join(tempfile.mkdtemp(), "bpe.txt")
            >>> BPETokenizer().train("ab ab cd", 258).save(path)
            >>> BPETokenizer().load(path).merges
            {(97, 98): 256, (32, 99): 257}
        """
        # solution: step 6
        with open(path, encoding="utf-8") as file:
            lines = file.read().splitlines()
        if not lines or lines[0] != HEADER:
            raise ValueError(f"BPETokenizer.load: line 1 must be {HEADER!r}, got {lines[0] if lines else ''!r}")
        specials, merges = [], {}
        for number, line in enumerate(lines[1:], start=2):
            kind, value = parse_line(line, number)
            if kind == "special" and merges:
                raise ValueError(
                    f"BPETokenizer.load: line {number} must not be a special token after a merge, got {line!r}"
                )
            if value in specials or value in merges:
                raise ValueError(f"BPETokenizer.load: line {number} must be a new special token or merge, got {line!r}")
            if kind == "special":
                specials.append(value)
                continue
            next_id = 256 + len(specials) + len(merges)
            if max(value) >= next_id:
                raise ValueError(f"BPETokenizer.load: line {number} must merge ids below {next_id}, got {line!r}")
            if any(256 <= i < 256 + len(specials) for i in value):
                raise ValueError(f"BPETokenizer.load: line {number} must not merge a special token's id, got {line!r}")
            merges[value] = next_id
        vocab = {i: bytes([i]) for i in range(256)}
        for k, token in enumerate(specials):
            vocab[256 + k] = token.encode("utf-8")
        for (a, b), new_id in merges.items():
            vocab[new_id] = vocab[a] + vocab[b]
        self.special_tokens, self.merges, self.vocab = specials, merges, vocab
        return self


HEADER = "tinytorch-bpe v1"
MERGE_LINE = re.compile(r"merge (0|[1-9][0-9]*) (0|[1-9][0-9]*)")


def parse_line(line: str, number: int) -> tuple[str, str | tuple[int, int]]:
    """Given: ``("special", token)`` or ``("merge", (a, b))`` from one line of a saved file.

    Raises:
        ValueError: ``"BPETokenizer.load: line 3 must be 'special <JSON string>' or 'merge <id>
            <id>', got 'merge 97'"``.
    Example:
        >>> parse_line('special "<s>"', 2), parse_line("merge 97 98", 3)
        (('special', '<s>'), ('merge', (97, 98)))
    """
    malformed = ValueError(
        f"BPETokenizer.load: line {number} must be 'special <JSON string>' or 'merge <id> <id>', got {line!r}"
    )
    match = MERGE_LINE.fullmatch(line)
    if match:
        return "merge", (int(match.group(1)), int(match.group(2)))
    if not line.startswith("special "):
        raise malformed
    try:
        token = json.loads(line[len("special ") :])
    except json.JSONDecodeError:
        raise malformed from None
    if not isinstance(token, str) or token == "":
        raise malformed
    return "special", token


# --- step 3 (continued): the pair counts that train keeps up to date --------------------------
# count_pairs is given; apply_merge is yours (step 3).


def count_pairs(words: list[list[int]], counts: list[int]) -> tuple[Counter, dict[tuple[int, int], set[int]]]:
    """Given: the pair counts of ``words`` (word w weighs ``counts[w]``) and who holds each pair.

    Returns ``(pair_counts, holders)``: ``pair_counts[(a, b)]`` is the number of times a is
    followed by b, over all words, each occurrence weighed by its word's count (occurrences
    overlap: [a, a, a] holds (a, a) twice); ``holders[(a, b)]`` is the set of the indices of
    the words that hold it.

    Example:
        >>> pair_counts, holders = count_pairs([[1, 1, 1], [1, 2]], [3, 1])
        >>> dict(pair_counts), holders
        ({(1, 1): 6, (1, 2): 1}, {(1, 1): {0}, (1, 2): {1}})
    """
    pair_counts = Counter()
    holders: dict[tuple[int, int], set[int]] = {}
    for w, word in enumerate(words):
        for pair in itertools.pairwise(word):
            pair_counts[pair] += counts[w]
            holders.setdefault(pair, set()).add(w)
    return pair_counts, holders


def apply_merge(
    words: list[list[int]],
    count: int,
    w: int,
    pair: tuple[int, int],
    new_id: int,
    pair_counts: Counter,
    holders: dict[tuple[int, int], set[int]],
) -> None:
    """Replace ``pair`` by ``new_id`` in word ``w`` (which occurs ``count`` times), in place,
    and update ``pair_counts`` and ``holders`` for that word only.

    All the word's old pairs are subtracted and all its new pairs added, so overlapping
    occurrences ([a, a, a]) are counted right; a count that reaches 0 is deleted, so that
    ``pair_counts`` holds only pairs that occur. Afterwards ``holders[p]`` contains ``w`` for
    every pair p the word holds; it may also keep a word that no longer holds a pair (a stale
    entry: merging that word again changes nothing, so it is harmless). Called on a word that
    does not hold ``pair``, it changes nothing.

    Args:
        words: the distinct pieces as lists of ids; ``words[w]`` is replaced by a new list.
        count: how often word ``w`` occurs (its weight in ``pair_counts``).
        w: the index of the word in ``words``.
        pair: the pair (a, b) being merged.
        new_id: the id that replaces it.
        pair_counts: ``count_pairs``'s Counter, updated in place.
        holders: ``count_pairs``'s dict of sets, updated in place (entries added, never removed).
    Returns:
        None.

    Complexity:
        O(length of the word) time.
    Example:
        >>> words, counts = [[1, 1, 1], [1, 2]], [3, 1]
        >>> pair_counts, holders = count_pairs(words, counts)
        >>> apply_merge(words, 3, 0, (1, 1), 9, pair_counts, holders)
        >>> words, dict(pair_counts)
        ([[9, 1], [1, 2]], {(1, 2): 1, (9, 1): 3})
    """
    # solution: step 3
    old = words[w]
    new = merge_pair(old, pair, new_id)
    if new == old:
        return  # a stale holder: the pair left this word in an earlier merge
    for old_pair in itertools.pairwise(old):
        pair_counts[old_pair] -= count
        if pair_counts[old_pair] == 0:
            del pair_counts[old_pair]
    for new_pair in itertools.pairwise(new):
        pair_counts[new_pair] += count
        holders.setdefault(new_pair, set()).add(w)
    words[w] = new
