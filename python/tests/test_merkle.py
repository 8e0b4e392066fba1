"""statehouse.merkle against the published RFC 6962 vectors (the same file the Swift tests read) and by property."""

import json
import random
from pathlib import Path

import pytest

from statehouse import merkle

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "rfc6962-vectors.json").read_text())
LEAVES = [merkle.leaf_hash(bytes.fromhex(leaf)) for leaf in VECTORS["leaves"]]


def _path(m, leaves):
    """RFC 9162 PATH(m, D[n]), computed from all leaves: the reference the verifier is checked against."""
    if len(leaves) <= 1:
        return []
    k = merkle._split(len(leaves))
    if m < k:
        return _path(m, leaves[:k]) + [merkle.root(leaves[k:])]
    return _path(m - k, leaves[k:]) + [merkle.root(leaves[:k])]


def _subproof(m, leaves, whole):
    n = len(leaves)
    if m == n:
        return [] if whole else [merkle.root(leaves)]
    k = merkle._split(n)
    if m <= k:
        return _subproof(m, leaves[:k], whole) + [merkle.root(leaves[k:])]
    return _subproof(m - k, leaves[k:], False) + [merkle.root(leaves[:k])]


def _consistency(m, leaves):
    return [] if m in (0, len(leaves)) else _subproof(m, leaves, True)


def _flip(value: bytes, bit: int) -> bytes:
    data = bytearray(value)
    data[bit // 8] ^= 1 << (bit % 8)
    return bytes(data)


def test_roots_match_published_vectors():
    for size, expected in enumerate(VECTORS["roots"]):
        assert merkle.root(LEAVES[:size]).hex() == expected


@pytest.mark.parametrize("vector", VECTORS["inclusion"], ids=lambda v: f"{v['leaf_index']}-of-{v['tree_size']}")
def test_published_inclusion_proofs_verify(vector):
    proof = [bytes.fromhex(h) for h in vector["path"]]
    index, size = vector["leaf_index"], vector["tree_size"]
    assert [h.hex() for h in _path(index, LEAVES[:size])] == vector["path"]
    expected_root = bytes.fromhex(VECTORS["roots"][size])
    assert merkle.verify_inclusion(index, size, LEAVES[index], proof, expected_root)
    assert not merkle.verify_inclusion(index, size, LEAVES[index], proof, _flip(expected_root, 3))


@pytest.mark.parametrize("vector", VECTORS["consistency"], ids=lambda v: f"{v['size1']}-to-{v['size2']}")
def test_published_consistency_proofs_verify(vector):
    proof = [bytes.fromhex(h) for h in vector["proof"]]
    old, new = vector["size1"], vector["size2"]
    assert [h.hex() for h in _consistency(old, LEAVES[:new])] == vector["proof"]
    old_root, new_root = bytes.fromhex(VECTORS["roots"][old]), bytes.fromhex(VECTORS["roots"][new])
    assert merkle.verify_consistency(old, new, old_root, new_root, proof)
    assert not merkle.verify_consistency(old, new, _flip(old_root, 9), new_root, proof)


@pytest.mark.parametrize("seed", range(6))
def test_every_proof_of_a_random_log_verifies_and_any_flipped_bit_fails(seed):
    rng = random.Random(seed)
    leaves = [merkle.leaf_hash(rng.randbytes(rng.randint(0, 40))) for _ in range(rng.randint(1, 40))]
    roots = [merkle.root(leaves[:size]) for size in range(len(leaves) + 1)]
    for size in range(1, len(leaves) + 1):
        for index in range(size):
            proof = _path(index, leaves[:size])
            assert merkle.verify_inclusion(index, size, leaves[index], proof, roots[size])
            bit = rng.randrange(256)
            assert not merkle.verify_inclusion(index, size, _flip(leaves[index], bit), proof, roots[size])
            assert not merkle.verify_inclusion(index, size, leaves[index], proof, _flip(roots[size], bit))
            if proof:
                position = rng.randrange(len(proof))
                bad = proof[:position] + [_flip(proof[position], bit)] + proof[position + 1 :]
                assert not merkle.verify_inclusion(index, size, leaves[index], bad, roots[size])
        for old in range(size + 1):
            proof = _consistency(old, leaves[:size])
            assert merkle.verify_consistency(old, size, roots[old], roots[size], proof)
            if 0 < old < size:
                bit = rng.randrange(256)
                position = rng.randrange(len(proof))
                bad = proof[:position] + [_flip(proof[position], bit)] + proof[position + 1 :]
                assert not merkle.verify_consistency(old, size, roots[old], roots[size], bad)
                assert not merkle.verify_consistency(old, size, _flip(roots[old], bit), roots[size], proof)


def test_malformed_proofs_are_refused():
    leaves = LEAVES
    proof = _path(3, leaves)
    good_root = merkle.root(leaves)
    assert merkle.verify_inclusion(3, 8, leaves[3], proof, good_root)
    assert not merkle.verify_inclusion(3, 8, leaves[3], proof[:-1], good_root)
    assert not merkle.verify_inclusion(3, 8, leaves[3], proof + [good_root], good_root)
    assert not merkle.verify_inclusion(8, 8, leaves[3], proof, good_root)
    assert not merkle.verify_inclusion(-1, 8, leaves[3], proof, good_root)
    old_root = merkle.root(leaves[:4])
    consistency = _consistency(4, leaves)
    assert merkle.verify_consistency(4, 8, old_root, good_root, consistency)
    assert not merkle.verify_consistency(8, 4, good_root, old_root, consistency)
    assert not merkle.verify_consistency(4, 8, old_root, good_root, [])
    assert not merkle.verify_consistency(4, 8, old_root, good_root, consistency + [good_root])
