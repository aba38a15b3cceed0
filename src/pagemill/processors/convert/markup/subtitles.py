"""Subtitles and captions (WebVTT, SRT) → the transcript as paragraphs.

What a reader of a converted transcript wants is the speech, in readable paragraphs, with a
way back to the recording: so consecutive cues are joined into one paragraph, and each
paragraph starts with the time of its first cue as a small prefix (``[01:23]``, or
``[1:02:03]`` past an hour). A new paragraph starts when the speaker changes (WebVTT's
``<v Name>``, which then leads the paragraph as "Name:"), after a pause of
``PAUSE_SECONDS`` or more, or once a paragraph is ``PARAGRAPH_CHARS`` long and its last cue
ends a sentence. Cue settings, styling tags, ``NOTE``/``STYLE``/``REGION`` blocks and cue
identifiers are dropped; a line that repeats the previous cue's last line (roll-up captions,
as YouTube's) is not written twice.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from pagemill.processors.convert.office.safety import BlockSink, collapse

PAUSE_SECONDS = 2.0
PARAGRAPH_CHARS = 500
TIMING = re.compile(
    r"^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})"
)
SRT_START = re.compile(r"^\s*\d+\s*\n\s*(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}\s*-->", re.MULTILINE)
VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
TAG = re.compile(r"</?[^>\s][^>]*>|\{\\[^}]*\}")
SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*$")


@dataclass(slots=True)
class Cue:
    start: float
    end: float
    speaker: str
    lines: list[str]


def looks_like_subtitles(text: str) -> bool:
    head = text.lstrip("\ufeff \t\r\n")
    return head.startswith("WEBVTT") or SRT_START.match(head) is not None


@dataclass(slots=True)
class Paragraph:
    first: Cue
    lines: list[str]
    chars: int = 0  # kept as lines are added: joining on every cue would be quadratic


def write_subtitles(text: str, sink: BlockSink) -> dict[str, object]:
    kind = "webvtt" if text.lstrip("\ufeff \t\r\n").startswith("WEBVTT") else "srt"
    cues = read_cues(text)
    paragraphs: list[Paragraph] = []
    previous: Cue | None = None
    last_line = ""
    for cue in cues:
        lines = [line for line in cue.lines if line and line != last_line]
        if cue.lines:
            last_line = cue.lines[-1]
        if not lines:
            continue
        if not paragraphs or previous is None or _breaks(previous, cue, paragraphs[-1]):
            paragraphs.append(Paragraph(cue, []))
        current = paragraphs[-1]
        current.lines.extend(lines)
        current.chars += sum(len(line) + 1 for line in lines)
        previous = cue
    for paragraph in paragraphs:
        first = paragraph.first
        speaker = f"{first.speaker}: " if first.speaker else ""
        words = collapse(" ".join(paragraph.lines))
        sink.add(0, "paragraph", f"[{_clock(first.start)}] {speaker}{words}")
    return {"parser": kind, "cues": len(cues)}


def _breaks(previous: Cue, cue: Cue, paragraph: Paragraph) -> bool:
    if cue.speaker != previous.speaker and cue.speaker:
        return True
    if cue.start - previous.end >= PAUSE_SECONDS:
        return True
    ends_sentence = SENTENCE_END.search(paragraph.lines[-1]) is not None
    return paragraph.chars >= PARAGRAPH_CHARS and ends_sentence


def read_cues(text: str) -> list[Cue]:
    """The cues of a WebVTT or SRT file, in file order. A timing line starts a cue (also
    without a blank line before it, as some caption exporters write); a blank line ends it;
    lines outside cues (the header, ``NOTE``/``STYLE``/``REGION`` blocks, cue identifiers)
    are not text."""
    cues: list[Cue] = []
    current: Cue | None = None
    speaker = ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        timing = TIMING.match(line)
        if timing is not None:
            current = Cue(_seconds(timing.group(1)), _seconds(timing.group(2)), speaker, [])
            cues.append(current)
            continue
        if not line.strip():
            current = None
            continue
        if current is None:
            continue
        voice = VOICE.search(line)
        if voice:
            speaker = current.speaker = collapse(voice.group(1))
        cleaned = collapse(html.unescape(TAG.sub("", line)))
        if cleaned:
            current.lines.append(cleaned)
    return cues


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def _clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
