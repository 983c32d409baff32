"""The result cache keeps an answer's token log-probabilities, so a cached answer's values keep their
confidence; a cache file written before they were kept opens, and its answers simply have none."""

import sqlite3

from radlite.inference.cache import ResultCache


def test_a_cached_answer_keeps_its_token_scores_and_an_older_cache_file_still_opens(tmp_path):
    path = str(tmp_path / "cache" / "results.sqlite")
    (tmp_path / "cache").mkdir()
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE results (key TEXT PRIMARY KEY, output TEXT NOT NULL)")
    old.execute("INSERT INTO results VALUES ('before', 'N0')")
    old.commit()
    old.close()
    cache = ResultCache(path)
    assert cache.get("before") == "N0" and cache.scores("before") is None
    cache.put("now", "N1", ((-0.25, -0.01), (1, 2)))
    cache.put("unscored", "N2")
    cache.close()
    again = ResultCache(path)
    assert again.get("now") == "N1" and again.scores("now") == ([-0.25, -0.01], [1, 2])
    assert again.get("unscored") == "N2" and again.scores("unscored") is None
