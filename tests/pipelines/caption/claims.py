"""An oracle for what a caption draft claims, independent of the composer.

A draft's claims are read back into vocabulary ids with a lexicon of its own: each id's
labels in the vocabulary, the phrase banks' names for it (header, words, hashtags, title
phrase), and words written here (EXTRA: "waves" is the sea, 沙丘 a desert). Nothing of the
composer's code is used: only the data that names the tags. Used by
tests/benchmarks/bench_truthful_drafts.py (real photos) and test_claims.py (hand-made trips).
"""

from __future__ import annotations

import functools
import re


# the general id that each specific one is an instance of (a temple is architecture)
GENERAL = {
    "architecture": {"temple", "palace", "church", "lighthouse", "bridge", "museum"},
    "plant": {"flower", "forest", "meadow", "autumn"},
    "wildlife": {"bird", "insect"},
    "food": {"fruit", "dessert"},
    "drink": {"coffee", "tea"},
    "sky": {"clouds", "sunset", "starry_sky"},
    "people": {"group", "selfie"},
    "city": {"street"},
}

# words of this benchmark's own, beyond the vocabulary labels and the banks' names
EXTRA = {
    "en": {
        "sea": ["waves", "wave", "ocean", "coast", "salt", "tide", "horizon"],
        "beach": ["sand", "sandy", "barefoot", "shore"],
        "lake": ["lakeside", "lakeshore"],
        "river": ["riverside", "stream", "riverbank"],
        "mountain": ["mountain", "mountains", "peak", "peaks", "summit", "ridge", "hills", "slopes"],
        "forest": ["woods", "trees", "woodland"],
        "meadow": ["grass", "grassland", "fields", "field"],
        "flower": ["flowers", "blossom", "blossoms", "bloom", "petals"],
        "snow": ["snowy", "snowfall"],
        "desert": ["dunes", "dune"],
        "sunset": ["sunset", "sundown", "dusk", "golden hour", "afterglow"],
        "night": ["after dark", "night view", "city lights", "lit up"],
        "starry_sky": ["stars", "starry", "milky way"],
        "clouds": ["cloud", "clouds", "cloudy"],
        "fog": ["mist", "misty", "foggy", "haze"],
        "rain": ["rainy", "drizzle", "umbrella"],
        "autumn": ["autumn leaves", "fall colours", "red leaves", "maple"],
        "airplane": ["plane", "flight", "window seat", "airport"],
        "train": ["railway", "train"],
        "boat": ["boat", "boats", "ferry", "rowing"],
        "pier": ["jetty", "pier", "harbour", "harbor", "dock"],
        "temple": ["temple", "shrine"],
        "church": ["church", "cathedral"],
        "palace": ["palace", "castle"],
        "street": ["street", "streets", "alley", "lanes"],
        "city": ["city", "skyline", "downtown"],
        "market": ["market", "stalls"],
        "cafe": ["café", "cafe"],
        "food": ["dish", "dishes", "meal", "snack", "snacks"],
        "fruit": ["fruit", "oranges", "apples"],
        "insect": ["butterfly", "bee", "bees", "insect"],
        "bird": ["bird", "birds", "owl"],
        "dog": ["dog", "puppy"],
        "cat": ["cat", "kitten"],
        "hiking": ["hike", "hiking", "trail"],
        "camping": ["tent", "campfire", "camping"],
        "swimming": ["swim", "swimming"],
        "skiing": ["ski", "skiing", "slope"],
        "people": ["friends"],
        "group": ["group photo"],
        "selfie": ["selfie"],
        "bicycle": ["bike", "bikes", "cycling", "cycled"],
    },
    "zh": {
        "sea": ["大海", "海浪", "海风", "海面", "海边", "海水", "浪花"],
        "beach": ["沙滩", "海滩", "赤脚"],
        "lake": ["湖", "湖面", "湖边", "湖水"],
        "river": ["河", "江边", "河边", "溪"],
        "mountain": ["山", "山顶", "山峰", "山路", "爬山", "登山"],
        "forest": ["森林", "树林", "林间", "林子"],
        "meadow": ["草地", "草原", "草坪"],
        "flower": ["花开", "鲜花", "花海", "赏花"],
        "snow": ["雪"],
        "desert": ["沙漠", "沙丘"],
        "sunset": ["日落", "夕阳", "晚霞", "落日"],
        "night": ["夜景", "灯火", "夜色"],
        "starry_sky": ["星空", "星星", "银河"],
        "clouds": ["云"],
        "fog": ["雾", "云雾", "薄雾"],
        "rain": ["雨"],
        "autumn": ["红叶", "枫叶", "秋色", "银杏"],
        "airplane": ["飞机", "航班", "机场", "舷窗"],
        "train": ["火车", "列车", "铁路"],
        "boat": ["船", "游船", "划船"],
        "pier": ["码头", "栈桥"],
        "temple": ["寺", "寺庙"],
        "church": ["教堂"],
        "palace": ["宫殿", "城堡"],
        "street": ["街道", "街头", "小巷", "老街"],
        "city": ["城市"],
        "bridge": ["桥"],
        "market": ["市集", "集市", "夜市"],
        "cafe": ["咖啡馆"],
        "food": ["美食", "小吃"],
        "fruit": ["水果"],
        "insect": ["昆虫", "蝴蝶", "蜜蜂"],
        "bird": ["鸟"],
        "dog": ["狗"],
        "cat": ["猫"],
        "hiking": ["徒步"],
        "camping": ["露营", "帐篷"],
        "swimming": ["游泳"],
        "skiing": ["滑雪"],
        "bicycle": ["骑行", "单车", "自行车"],
    },
}

# words of the vocabulary or the banks too loose to claim anything on their own: a season
# word comes from the date, not a photo ("秋天", "autumn"); 走, 路, 人 and "water" are in
# every other sentence; "together" claims no group photo. Chinese one-character words
# count only when this file lists them in EXTRA (山, 湖, 雪...).
LOOSE = {
    "en": {"autumn", "water", "on the water", "photo", "walk", "together", "photos", "trail", "nature", "sky views"},
    "zh": {"一起", "拍照", "秋天", "自然", "人", "走", "路", "天", "车", "夜", "秋"},
}

# words that contain a lexicon word but claim nothing ("花时间" is spending time, "云南" a province)
NOT_CLAIMS = {
    "zh": ["花时间", "花了", "花费", "云南", "雪碧", "山寨", "江湖", "河南", "河北", "湖南", "湖北", "海拔",
           "出发", "开花结果", "桥段", "猫腰", "狗尾", "人山人海", "下山", "一山", "白云", "落山"],
    "en": ["in the air", "rainbow"],
}


@functools.lru_cache(maxsize=2)
def lexicon(lang: str) -> dict[str, set[str]]:
    """id -> the words that name it in ``lang``."""
    from creator.resources import load_prompt
    from creator.vocabulary import vocabulary

    vocab = vocabulary()
    bank = load_prompt(f"caption/{lang}.yaml")["tags"]
    out: dict[str, set[str]] = {}
    for tid in list(vocab.ids) + list(families()):
        words = {vocab[tid].label(lang) if tid in vocab.ids else families()[tid][lang]}
        e = bank.get(tid) or {}
        words |= {e.get("header") or "", e.get("title_where") or ""} | set(e.get("words", []))
        words |= set(e.get("hashtags", []))
        words |= set(EXTRA[lang].get(tid, []))
        extra = set(EXTRA[lang].get(tid, []))
        out[tid] = {w for w in words if w and w.lower() not in LOOSE[lang]
                    and (lang == "en" or len(w) > 1 or w in extra)}
    return out


def claims(text: str, lang: str, lex: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    """word of ``text`` -> the ids it names (a word shared by ids, such as #自然观察 for
    insects and wildlife, names one of them); longest words first, each span read once."""
    low = text.lower()
    for w in NOT_CLAIMS[lang]:
        low = low.replace(w.lower(), " " * len(w))
    owners: dict[str, set[str]] = {}
    for t, ws in lex.items():
        for w in ws:
            owners.setdefault(w.lower(), set()).add(t)
    words = sorted(owners, key=lambda w: (-len(w), w))  # ties by the word: the same on every run
    taken = [False] * len(low)
    found: dict[str, frozenset[str]] = {}
    for w in words:
        if lang == "en" or w.isascii():
            # hashtags are CamelCase joined words: match them case-insensitively as they are
            pat = re.compile(rf"(?<![a-z]){re.escape(w)}(?![a-z])")
        else:
            pat = re.compile(re.escape(w))
        for m in pat.finditer(low):
            if any(taken[m.start():m.end()]):
                continue
            for k in range(m.start(), m.end()):
                taken[k] = True
            found[w] = frozenset(owners[w])
    return found


@functools.lru_cache(maxsize=1)
def families() -> dict[str, dict]:
    """The composer's families (prompts/caption/themes.yaml: "water" for sea, lake or
    river): a family's words claim that one of its members is shown."""
    from creator.resources import load_prompt

    return load_prompt("caption/themes.yaml").get("families") or {}


def closure(ids: set[str]) -> set[str]:
    out = set(ids)
    for g, specific in GENERAL.items():
        if out & specific:
            out.add(g)
    for fam, f in families().items():
        if out & set(f["members"]):
            out.add(fam)
    return out


@functools.lru_cache(maxsize=2)
def _tip_owners(lang: str) -> dict[str, str | None]:
    """tip text -> the id whose tip it is (a beach's sunscreen), None for the general ones
    (the season's, any trip's): advice that states nothing about the photos."""
    from creator.resources import load_prompt

    bank = load_prompt(f"caption/{lang}.yaml")
    out: dict[str, str | None] = {tip: None for tips in bank["generic_tips"].values() for tip in tips}
    for tid, e in bank["tags"].items():
        for tip in e.get("tips", []):
            out[tip] = tid
    return out


def draft_text(caption, ctx) -> str:
    """Title, body and hashtags less the place names (西湖 names a place, not a photo of a
    lake) and the general tips; a tag's own tip is read as naming its tag."""
    owners = _tip_owners(caption.language)
    lex = lexicon(caption.language)
    lines = []
    for line in caption.body.splitlines():
        tip = line[2:] if line.startswith("· ") else None
        if tip is not None and tip in owners:
            owner = owners[tip]
            if owner is not None:  # said as the tag's first name, which the lexicon reads back
                lines.append(max(lex[owner], key=lambda w: (len(w), w)))  # the same word on every run
            continue
        lines.append(line)
    text = "\n".join([caption.title, "\n".join(lines), " ".join(caption.hashtags)])
    names = set()
    for p in ctx.places + [i.place for i in ctx.items if i.place] + [m.place for m in ctx.moments if m.place]:
        for v in (p.name_zh, p.name_en, p.city_zh, p.city_en, p.country_zh, p.country_en, p.region_zh, p.region_en):
            if v:
                names |= {v, re.sub(r"[\s'’\-.]", "", v)}
    for n in sorted(names, key=lambda v: (-len(v), v)):
        text = text.replace(n, " ")
    return text


