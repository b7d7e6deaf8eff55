

def test_a_text_past_what_e5_reads_is_cut_before_it_is_encoded():
    """A 200 KB query (a crafted request, a pasted page) held a CPU for minutes; each text
    is cut to about MAX_TEXT_TOKENS first and encodes as its head does. A short one is
    untouched."""
    import numpy as np

    from creator.music.embeddings import MAX_TEXT_TOKENS, _head, text_embedder

    zh, en = "海边的日落 " * 40000, "a calm sunset by the sea " * 40000
    assert len(_head(zh)) < 1.2 * MAX_TEXT_TOKENS and len(_head(en)) < 4 * MAX_TEXT_TOKENS
    assert _head("海边的日落，安静的夜晚") == "海边的日落，安静的夜晚"
    e5 = text_embedder()
    assert np.allclose(e5.query(zh), e5.query(_head(zh)))
    assert np.allclose(e5.passage([en, "calm"])[0], e5.passage([_head(en)])[0])
