from promptfill import HoleFill
from promptfill.report._tokens import TokenPiece, token_pieces


def hole_fill(text, tokens):
    count = len(tokens)
    return HoleFill(
        hole=0, text=text, token_ids=list(range(count)), tokens=tokens,
        confidences=[0.1 * (i + 1) for i in range(count)], logprobs=[-1.0] * count,
    )


def test_wordpiece_pieces_join_words():
    pieces, exact = token_pieces(hole_fill("the playing field", ["the", "play", "##ing", "field"]))
    assert exact
    assert [piece.text for piece in pieces] == ["the", " ", "play", "ing", " ", "field"]
    assert [piece.token for piece in pieces if piece.token] == ["the", "play", "##ing", "field"]


def test_leading_continuation_kept_as_decoded():
    pieces, exact = token_pieces(hole_fill("##cini classed", ["##cini", "classed"]))
    assert exact
    assert [piece.text for piece in pieces] == ["##cini", " ", "classed"]


def test_punctuation_without_space():
    pieces, exact = token_pieces(hole_fill("animals, given", ["animals", ",", "given"]))
    assert exact
    assert "".join(piece.text for piece in pieces) == "animals, given"


def test_byte_level_markers_stripped():
    pieces, exact = token_pieces(hole_fill("Hello world", ["Hello", "Ġworld"]))
    assert exact
    assert pieces[-1] == TokenPiece("world", "Ġworld", 0.2, -1.0)


def test_unmatched_tokens_fall_back_to_joined():
    pieces, exact = token_pieces(hole_fill("café au", ["cafÃ©", "Ġau"]))
    assert not exact
    assert [piece.text for piece in pieces] == ["cafÃ©", " ", "au"]


def test_confidences_follow_tokens():
    pieces, _ = token_pieces(hole_fill("a b", ["a", "b"]))
    assert [piece.confidence for piece in pieces] == [0.1, None, 0.2]
