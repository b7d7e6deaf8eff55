

def test_a_text_past_what_e5_reads_is_cut_before_it_is_encoded():
    """A 200 KB query (a crafted request, a pasted page) held a CPU for minutes; e5 reads
    512 tokens, so the text is cut to MAX_TEXT_CHARS first and encodes as its head does."""
    import numpy as np

    from creator.music.embeddings import MAX_TEXT_CHARS, text_embedder

    e5 = text_embedder()
    long = "海边的日落 " * 40000
    assert np.allclose(e5.query(long), e5.query(long[:MAX_TEXT_CHARS]))
    assert np.allclose(e5.passage([long, "calm"])[0], e5.passage([long[:MAX_TEXT_CHARS]])[0])
