"""Cut the small, licence-compatible corpus slices shipped in samples/ (run once; reproducible).

Takes the first N sentences of each split, byte-for-byte (blank-line separated blocks), from
UD English EWT (CC BY-SA 4.0) and WNUT-17 (CC-BY 4.0); the first 1,000 SMS Spam Collection
messages (free to use, citation requested); the public-domain Poe poems. CoNLL-2003 is never
sliced: Reuters text.
Usage: python scripts/make_samples.py ../shared/data
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

SLICES = {
    "ud_en_ewt": {
        "en_ewt-ud-train.conllu": ("train.conllu", 1500),
        "en_ewt-ud-dev.conllu": ("dev.conllu", 300),
        "en_ewt-ud-test.conllu": ("test.conllu", 300),
    },
    "wnut17": {
        "wnut17train.conll": ("train.conll", 1200),
        "emerging.dev.conll": ("dev.conll", 300),
        "emerging.test.annotated": ("test.conll", 300),
    },
}


def first_blocks(text: str, count: int) -> str:
    """The first ``count`` sentences of ``text``; WNUT separates them by lines holding a lone tab."""
    blocks, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return "".join("\n".join(block) + "\n\n" for block in blocks[:count])


def first_lines(text: str, count: int) -> str:
    """The first ``count`` lines of ``text``."""
    return "".join(line + "\n" for line in text.splitlines()[:count])


LINE_SLICES = {
    # SMS Spam Collection v.1 (free to use with citation): label<TAB>text; 1,000 messages.
    "sms_spam": {"SMSSpamCollection": ("sms_spam.tsv", 1000)},
    # Multi30k task 1 (research use, cite Elliott et al. 2016): aligned en/de lines.
    "multi30k": {
        "train.en": ("train.en", 3000), "train.de": ("train.de", 3000),
        "val.en": ("val.en", 200), "val.de": ("val.de", 200),
        "test_2016_flickr.en": ("test.en", 200), "test_2016_flickr.de": ("test.de", 200),
    },
    # Edgar Allan Poe (public domain): the whole file.
    "poetry": {"edgar_allan_poe.txt": ("edgar_allan_poe.txt", 10**6)},
}


def main(data_dir: Path, out_dir: Path) -> None:
    for corpus, files in SLICES.items():
        (out_dir / corpus).mkdir(parents=True, exist_ok=True)
        for source, (target, count) in files.items():
            text = (data_dir / corpus / source).read_text(encoding="utf-8")
            (out_dir / corpus / target).write_text(first_blocks(text, count), encoding="utf-8")
    for corpus, files in LINE_SLICES.items():
        (out_dir / corpus).mkdir(parents=True, exist_ok=True)
        for source, (target, count) in files.items():
            text = (data_dir / corpus / source).read_text(encoding="utf-8")
            (out_dir / corpus / target).write_text(first_lines(text, count), encoding="utf-8")
    target = out_dir / "ud_en_ewt" / "LICENSE.txt"
    if target.exists():
        target.chmod(0o644)
    shutil.copy(data_dir / "ud_en_ewt" / "LICENSE.txt", target)
    target.chmod(0o644)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).resolve().parents[1] / "samples")
