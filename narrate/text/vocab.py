"""Word tables the text stages share: month names, abbreviations and acronyms said as words.

Written once here; sentence splitting, normalisation, timeline phrases and the page importer all
read them.
"""

from __future__ import annotations

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
"""Month names in calendar order."""

MONTH_ABBREVIATIONS = {
    **{m[:3]: m for m in MONTHS if m != "May"},
    "Sept": "September",
}
"""Abbreviations an article may write before a number ("Dec 2015"), with their full names."""

MONTH_NAMES_RE = "|".join(MONTHS)
"""A regular-expression alternation of the full month names."""


def month(word: str) -> str | None:
    """Return the full month name for "Dec", "Dec.", "December" or "Sept"; None otherwise."""
    w = word.lower().rstrip(".")
    if len(w) < 3:
        return None
    for full in MONTHS:
        if full.lower().startswith(w) or (w == "sept" and full == "September"):
            return full
    return None


def month_number(word: str) -> int | None:
    """Return 1-12 for a month name or abbreviation ("Sep", "September"); None otherwise."""
    full = month(word)
    return MONTHS.index(full) + 1 if full else None


WORD_ACRONYMS: frozenset[str] = frozenset(
    {
        "AIDS", "ALGOL", "ASCII", "BASIC", "BERT", "BLEU", "CAPTCHA", "COBOL", "COVID", "CUDA",
        "DALL", "DARPA", "DENDRAL", "ELIZA", "ENIAC", "FIFA", "FORTRAN", "GAN", "GIF", "GLUE",
        "JPEG", "LASER", "LIDAR", "LISP", "MYCIN", "NAFTA", "NASA", "NATO", "NVIDIA", "OPEC",
        "PARC", "PIN", "PROLOG", "RADAR", "RAM", "ROM", "SCUBA", "SHRDLU", "SIM", "SNARC",
        "SONAR", "STRIPS", "UNESCO", "UNICEF", "UNIVAC", "YOLO",
    }
)  # fmt: skip
"""All-capital words that are said as words, not spelled. Everything else in capitals is spelled
(espeak guesses: it says "ILSVRC" as "ilsvarc" but spells "GPU"). Site lexicons add more."""

ABBREV_ALWAYS = frozenset(
    {
        "dr", "mr", "mrs", "ms", "prof", "st", "mt", "sr", "gen", "col", "capt", "lt", "sgt",
        "rev", "hon", "vs", "v", "cf", "e.g", "i.e", "viz", "approx", "ca", "dept", "univ",
    }
)  # fmt: skip
"""Abbreviations whose full stop never ends a sentence (lower-cased, without the final ".")."""

ABBREV_BEFORE_NUMBER = frozenset(
    {
        "no", "nos", "fig", "figs", "vol", "vols", "p", "pp", "ch", "sec", "eq", "eqs", "art", "op",
        "c",
        *(m.lower() for m in MONTH_ABBREVIATIONS),
    }
)  # fmt: skip
"""Abbreviations that end a sentence unless a number follows ("No. 5", "Dec. 2015", "c. 1950")."""

ABBREVIATIONS: dict[str, tuple[str, bool]] = {
    "c": ("circa", True), "ca": ("circa", False), "approx": ("approximately", False),
    "Vol": ("volume", True), "vol": ("volume", True), "Vols": ("volumes", True),
    "No": ("number", True), "no": ("number", True), "Nos": ("numbers", True),
    "pp": ("pages", False), "p": ("page", True),
    "Fig": ("figure", False), "fig": ("figure", False), "Figs": ("figures", False),
    "Eq": ("equation", False), "eq": ("equation", False), "Eqs": ("equations", False),
    "Ch": ("chapter", True), "ch": ("chapter", True), "Sec": ("section", True),
    "ed": ("editor", False), "eds": ("editors", False), "Ed": ("editor", False),
    "Eds": ("editors", False), "e.g": ("for example", False), "i.e": ("that is", False),
    "cf": ("compare", False), "vs": ("versus", False), "Proc": ("Proceedings", False),
    "Trans": ("Transactions", False), "Conf": ("Conference", False),
    "Intl": ("International", False), "Natl": ("National", False), "Inst": ("Institute", False),
}  # fmt: skip
"""Abbreviations with a full stop, as written without it -> (the words said, whether only
before a number: "No. 8" is "number 8", "No." alone is left as it is)."""

KNOWN_ABBREVIATIONS: frozenset[str] = frozenset(
    {*ABBREVIATIONS, *ABBREV_ALWAYS, *ABBREV_BEFORE_NUMBER, "et al", "al", "etc", "Jr", "Inc",
     "Ltd", "Co", "Corp", "Bros", "St"}
)  # fmt: skip
"""Abbreviations espeak-ng or the rules handle (``narrate lint`` reports any other "Abc.")."""

_DATA = {"B": "byte", "KB": "kilobyte", "kB": "kilobyte", "MB": "megabyte", "GB": "gigabyte",
         "TB": "terabyte", "PB": "petabyte", "KiB": "kibibyte", "MiB": "mebibyte",
         "GiB": "gibibyte", "TiB": "tebibyte", "Kb": "kilobit", "Mb": "megabit",
         "Gb": "gigabit"}  # fmt: skip
UNITS: dict[str, tuple[str, str]] = {
    **{k: (v, v + "s") for k, v in _DATA.items() if k != "B"},
    "Hz": ("hertz", "hertz"), "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"), "GHz": ("gigahertz", "gigahertz"),
    "nm": ("nanometre", "nanometres"), "µm": ("micrometre", "micrometres"),
    "μm": ("micrometre", "micrometres"), "mm": ("millimetre", "millimetres"),
    "cm": ("centimetre", "centimetres"), "km": ("kilometre", "kilometres"),
    "mg": ("milligram", "milligrams"), "kg": ("kilogram", "kilograms"),
    "ms": ("millisecond", "milliseconds"), "µs": ("microsecond", "microseconds"),
    "μs": ("microsecond", "microseconds"), "ns": ("nanosecond", "nanoseconds"),
    "kW": ("kilowatt", "kilowatts"), "MW": ("megawatt", "megawatts"),
    "GW": ("gigawatt", "gigawatts"), "kWh": ("kilowatt hour", "kilowatt hours"),
    "MWh": ("megawatt hour", "megawatt hours"), "GWh": ("gigawatt hour", "gigawatt hours"),
    "W": ("watt", "watts"), "kV": ("kilovolt", "kilovolts"), "mA": ("milliamp", "milliamps"),
    "dB": ("decibel", "decibels"), "px": ("pixel", "pixels"), "fps": ("frame per second",
    "frames per second"), "bps": ("bit per second", "bits per second"),
    "kbps": ("kilobit per second", "kilobits per second"),
    "Mbps": ("megabit per second", "megabits per second"),
    "Gbps": ("gigabit per second", "gigabits per second"),
    "FLOPS": ("flop per second", "flops"), "GFLOPS": ("gigaflop", "gigaflops"),
    "TFLOPS": ("teraflop", "teraflops"), "PFLOPS": ("petaflop", "petaflops"),
}  # fmt: skip
"""Units written after a number ("3GB", "2.4 GHz") -> (singular, plural) words."""

SPOKEN_ACRONYMS: dict[str, str] = {
    "IEEE": "I triple E", "AAAI": "triple A I", "WWII": "World War Two",
    "WWI": "World War One",
}  # fmt: skip
"""All-capital words said neither as a word nor letter by letter."""

NAMES: dict[str, str] = {"Łukasz": "Wookash"}
"""Names from other languages the site's articles use, respelled for the English voice (an
article or site lexicon entry overrides one)."""

SPELLED_ACRONYMS: frozenset[str] = frozenset(
    """
    AI AGI ML NLP CV RL GPU GPUs CPU TPU NPU ASIC FPGA CNN RNN LSTM GRU MLP GPT LLM VAE SVM PCA
    HMM CRF SGD RBM DBN DNN API SDK IDE OS PC IBM MIT CMU UCLA USC SRI IEEE ACM DEC HP AT BBC
    CBS NBC CNN PBS USA US UK EU UN NSF NIH NIST DOD DOE ARPA IPTO JPL NLM IJCAI ICML ICLR CVPR
    ECCV ICCV NIPS ACL EMNLP KDD WMT ILSVRC COCO VOC MNIST CIFAR SIFT HOG SURF RGB CCD LED LCD CRT
    TV DVD CD USB HTTP HTML URL WWW XML JSON CSV PDF SQL PHP XOR AND OR NOT GTX RTX TSMC AMD DNA
    RNA MRI CT ECG EEG PhD MSc BSc CEO CTO CFO IPO R&D AM PM BC AD CE BCE GB MB TB ID IQ OCR TTS
    ASR STT SLAM GPS RAM CPU ALU IO FLOP XLA JAX IR AST VM VR AR XR
    """.split()
)
"""All-capital words spelled letter by letter that ``narrate lint`` accepts without a lexicon
entry: the rules spell them ("G.P.U") and that is how they are said."""
