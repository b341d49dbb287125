"""The hints of a step, read from the kata's lesson (``exercises/NN_name/README.md``): hints live
there and nowhere else, so no copy can drift from them.

Lessons mark a step's hints in one of two ways, and both are read:

- a ``## Hints`` section whose entries (paragraphs or bullets) start with the step:
  ``**Step 2.** ...``, ``- **Step 2.** ...``, ``- Step 2: ...``, ``- Step 4, forward: ...``;
  a paragraph after a step's entry continues it, and a bullet that starts with no step (or an
  entry before the first step's) is one of the lesson's general hints;
- a ``### Step N: ...`` section (under ``## The steps``), which names the step's targets and
  gives its advice.

A step's hint is its entries in ``## Hints`` when there are any, else its ``### Step N``
section; the general hints follow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HEADING = re.compile(r"^(#{2,3}) +(.*?)\s*$")
STEP_ENTRY = re.compile(r"^(?:[-*] +)?\**Step (\d+)\b")  # **Step 2.**, - **Step 2.**, - Step 2:, - Step 4, forward:
STEP_HEADING = re.compile(r"^Step (\d+)\b")
STEP_ITEM = re.compile(r"^(\d+)\. +(.*)$")  # "2. **`collate(samples)`** turns ..." in ## The steps


@dataclass
class Section:
    level: int
    title: str
    line: int  # 1-based line of the heading
    lines: list[str] = field(default_factory=list)


@dataclass
class Entry:
    line: int  # 1-based line where the entry starts
    text: str

    @property
    def step(self) -> int | None:
        found = STEP_ENTRY.match(self.text)
        return int(found.group(1)) if found else None


@dataclass
class Hint:
    step: int
    title: str  # what the step is, from the lesson's list of steps or its heading
    where: str  # "## Hints" or "### Step 2: ..."
    line: int  # where the step's hint starts in the lesson (0: none found)
    text: str  # the step's own hint ("" when the lesson has none)
    general: str  # the lesson's hints for every step ("" when none)
    general_line: int = 0


def sections(lesson: str) -> list[Section]:
    """The lesson's ``##`` and ``###`` sections, in order (fenced code blocks are not headings)."""
    found = [Section(1, "", 1)]
    fenced = False
    for number, line in enumerate(lesson.splitlines(), start=1):
        if line.startswith("```"):
            fenced = not fenced
        heading = None if fenced else HEADING.match(line)
        if heading:
            found.append(Section(len(heading.group(1)), heading.group(2), number))
        else:
            found[-1].lines.append(line)
    return found


def entries(section: Section) -> list[Entry]:
    """A section's paragraphs and top-level bullets, each with the line it starts on."""
    found: list[Entry] = []
    current: list[str] = []
    first = 0
    fenced = False

    def close() -> None:
        if current:
            found.append(Entry(first, "\n".join(current).strip("\n")))
        current.clear()

    for offset, line in enumerate(section.lines, start=section.line + 1):
        if line.startswith("```"):
            fenced = not fenced
        starts_bullet = not fenced and re.match(r"^[-*] ", line)
        if not fenced and not line.strip():
            close()
            continue
        if starts_bullet or not current:
            close()
            first = offset
        current.append(line)
    close()
    return found


def step_title(all_sections: list[Section], step: int) -> str:
    """What the step is: its ``### Step N`` heading, or its item in ``## The steps`` (up to a blank line)."""
    for section in all_sections:
        if section.level == 3 and (found := STEP_HEADING.match(section.title)) and int(found.group(1)) == step:
            return section.title
    for section in all_sections:
        if section.level == 2 and section.title.lower().startswith("the steps"):
            for index, line in enumerate(section.lines):
                item = STEP_ITEM.match(line)
                if item and int(item.group(1)) == step:
                    words = [item.group(2).strip()]
                    for more in section.lines[index + 1 :]:  # the item's indented continuation lines
                        if not more.startswith(" ") or not more.strip():
                            break
                        words.append(more.strip())
                    return f"Step {step}: {' '.join(words)}"
    return f"Step {step}"


def hint(lesson: str, step: int) -> Hint:
    """The hint of ``step`` in ``lesson`` (see the module's docstring for where it is looked for)."""
    all_sections = sections(lesson)
    hints = next((s for s in all_sections if s.level == 2 and s.title.lower().startswith("hints")), None)
    own: list[Entry] = []
    general: list[Entry] = []
    if hints is not None:
        current = None  # the step of the entry before, which a paragraph without a step continues
        for entry in entries(hints):
            if entry.step is not None:
                current = entry.step
            elif current is None or re.match(r"^[-*] ", entry.text):
                current = None  # a bullet of its own, or before any step's entry: a general hint
            (own if current == step else general if current is None else []).append(entry)
    where, line, text = "## Hints", own[0].line if own else 0, "\n\n".join(entry.text for entry in own)
    if not own:
        for section in all_sections:
            found = STEP_HEADING.match(section.title) if section.level == 3 else None
            if found and int(found.group(1)) == step:
                where, line, text = f"### {section.title}", section.line, "\n".join(section.lines).strip("\n")
                break
    return Hint(
        step=step,
        title=step_title(all_sections, step),
        where=where if text else "",
        line=line if text else 0,
        text=text,
        general="\n\n".join(entry.text for entry in general),
        general_line=general[0].line if general else 0,
    )
