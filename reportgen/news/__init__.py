"""Pure news handling: feed bytes → plain-text items → merged, ranked, split stories.

`text` makes hostile feed content safe (plain text, http(s) links only), `items` turns RSS/
Atom (via feedparser, from bytes) and BlockBeats JSON into `NewsItem`s, `rank` merges
near-duplicates across outlets, ranks them and splits "Macro & policy" from "Market
highlights". No I/O anywhere here; `reportgen.sources.news` does the fetching.
"""
