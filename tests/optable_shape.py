"""Op-table rows of the shape/combination ops (ir/ops/combine.py) and of advanced indexing
(ir/ops/indexing.py); tests/optable.py appends them to OP_CASES. Same row format: (id, function, specs)."""

from __future__ import annotations

import numpy as np

import revgraph as rg

ANY = "any"

MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
ROWS = np.array([[0, 2], [2, 2]])  # a 2-D index array with a repeat: its gradient accumulates

SHAPE_CASES = [
    # stacking and splitting
    ("stack", lambda x, y: rg.stack([x, y, x]), [((2, 3), ANY), ((2, 3), ANY)]),
    ("stack_axis_last", lambda x, y: rg.stack([x, y], axis=-1), [((2, 3), ANY), ((2, 3), ANY)]),
    ("vstack_1d", lambda x, y: rg.vstack([x, y]), [((3,), ANY), ((3,), ANY)]),
    ("vstack_2d", lambda x, y: rg.vstack([x, y]), [((2, 3), ANY), ((1, 3), ANY)]),
    ("hstack_1d", lambda x, y: rg.hstack([x, y]), [((3,), ANY), ((2,), ANY)]),
    ("hstack_2d", lambda x, y: rg.hstack([x, y]), [((2, 3), ANY), ((2, 1), ANY)]),
    ("split_sections", lambda x: (lambda a, b: a * b)(*rg.split(x, 2, axis=1)), [((3, 4), ANY)]),
    ("split_points", lambda x: rg.concatenate([p * (i + 1.0) for i, p in enumerate(rg.split(x, [1, 3]))]),
     [((4, 2), ANY)]),
    ("array_split_uneven", lambda x: rg.concatenate([p * (i + 1.0) for i, p in enumerate(rg.array_split(x, 3, 1))],
                                                    axis=1), [((2, 5), ANY)]),  # sections need axis 1's size
    # repeating and rearranging
    ("tile", lambda x: rg.tile(x, (2, 3)), [((2, 3), ANY)]),
    ("tile_more_reps", lambda x: rg.tile(x, (2, 1, 2)), [((3,), ANY)]),
    ("repeat_axis", lambda x: rg.repeat(x, 2, axis=1), [((2, 3), ANY)]),
    ("repeat_each", lambda x: rg.repeat(x, [1, 0, 3], axis=0), [((3, 2), ANY)]),
    ("repeat_flat", lambda x: rg.repeat(x, 2), [((2, 3), ANY)]),
    ("roll_flat", lambda x: rg.roll(x, 2), [((2, 3), ANY)]),
    ("roll_axes", lambda x: rg.roll(x, (1, -2), axis=(0, 1)), [((2, 3), ANY)]),
    ("flip_all", lambda x: rg.flip(x), [((2, 3), ANY)]),
    ("flip_axis", lambda x: rg.flip(x, axis=-1), [((2, 3, 2), ANY)]),
    ("fliplr", rg.fliplr, [((2, 3), ANY)]),
    ("flipud", rg.flipud, [((2, 3), ANY)]),
    ("pad_int", lambda x: rg.pad(x, 1), [((2, 3), ANY)]),
    ("pad_pairs_value", lambda x: rg.pad(x, ((0, 2), (1, 0)), constant_values=1.5), [((2, 3), ANY)]),
    ("moveaxis", lambda x: rg.moveaxis(x, 0, -1), [((2, 3, 4), ANY)]),
    ("swapaxes", lambda x: rg.swapaxes(x, 0, 2), [((2, 3, 4), ANY)]),
    ("ravel", rg.ravel, [((2, 3), ANY)]),
    # diagonals and triangles
    ("diag_build", lambda v: rg.diag(v), [((3,), ANY)]),
    ("diag_build_k", lambda v: rg.diag(v, -1), [((3,), ANY)]),
    ("diag_take", lambda x: rg.diag(x, 1), [((3, 4), ANY)]),
    ("diagonal_axes", lambda x: rg.diagonal(x, offset=-1, axis1=2, axis2=0), [((3, 2, 4), ANY)]),
    ("triu", lambda x: rg.triu(x, 1), [((3, 4), ANY)]),
    ("tril_batched", lambda x: rg.tril(x, -1), [((2, 3, 3), ANY)]),
    # products
    ("outer", rg.outer, [((3,), ANY), ((2, 2), ANY)]),
    ("inner", rg.inner, [((2, 3), ANY), ((4, 3), ANY)]),
    ("inner_1d", rg.inner, [((3,), ANY), ((3,), ANY)]),
    ("dot_2d", rg.dot, [((2, 3), ANY), ((3, 4), ANY)]),
    ("dot_nd", rg.dot, [((2, 2, 3), ANY), ((4, 3, 2), ANY)]),
    ("dot_scalar", rg.dot, [((), ANY), ((2, 3), ANY)]),
    ("tensordot_int", lambda a, b: rg.tensordot(a, b, axes=2), [((2, 3, 4), ANY), ((3, 4, 2), ANY)]),
    ("tensordot_pairs", lambda a, b: rg.tensordot(a, b, axes=([0, 2], [2, 1])), [((2, 3, 4), ANY), ((3, 4, 2), ANY)]),
    ("kron", rg.kron, [((2, 3), ANY), ((2, 2), ANY)]),
    ("kron_ranks", rg.kron, [((3,), ANY), ((2, 2), ANY)]),
    ("kron_3d", rg.kron, [((2, 1, 2), ANY), ((1, 2, 3), ANY)]),
    ("einsum_matmul", lambda a, b: rg.einsum("ij,jk->ik", a, b), [((2, 3), ANY), ((3, 4), ANY)]),
    ("einsum_implicit", lambda a, b: rg.einsum("ji,jk", a, b), [((3, 2), ANY), ((3, 4), ANY)]),
    ("einsum_ellipsis_broadcast", lambda a, b: rg.einsum("...ij,...jk->...ik", a, b),
     [((2, 1, 2, 3), ANY), ((4, 3, 2), ANY)]),
    ("einsum_ellipsis_one_side", lambda a, b: rg.einsum("...j,jk", a, b), [((2, 2, 3), ANY), ((3, 4), ANY)]),
    ("einsum_sum_out", lambda a: rg.einsum("ij->j", a), [((2, 3), ANY)]),
    ("einsum_trace", lambda a: rg.einsum("ii", a), [((3, 3), ANY)]),
    ("einsum_diagonal_product", lambda a, b: rg.einsum("ii,i->i", a, b), [((3, 3), ANY), ((3,), ANY)]),
    ("einsum_diagonal_batched", lambda a: rg.einsum("ibi->bi", a), [((3, 2, 3), ANY)]),
    ("einsum_two_diagonals", lambda a: rg.einsum("iijj->ij", a), [((2, 2, 3, 3), ANY)]),
    ("einsum_three", lambda a, b, c: rg.einsum("ab,bc,cd->ad", a, b, c), [((2, 3), ANY), ((3, 2), ANY), ((2, 2), ANY)]),
    # Tensor methods
    ("method_dot", lambda a, b: a.dot(b), [((2, 3), ANY), ((3,), ANY)]),
    ("method_ravel_flatten", lambda x: x.ravel() * x.flatten(), [((2, 3), ANY)]),
    ("method_swapaxes_repeat_diagonal", lambda x: x.swapaxes(0, 1).repeat(2, axis=0).diagonal(), [((2, 3), ANY)]),
    # advanced indexing (gradients: scatter-add, repeated indices accumulate)
    ("getitem_int_array_repeats", lambda x: x[np.array([0, 0, 2, -1])], [((3, 2), ANY)]),
    ("getitem_list_columns", lambda x: x[:, [0, 2]], [((2, 3), ANY)]),
    ("getitem_2d_index_array", lambda x: x[ROWS], [((3, 2), ANY)]),
    ("getitem_arrays_broadcast", lambda x: x[[[0], [2]], [1, 1, 0]], [((3, 2), ANY)]),
    ("getitem_arrays_separated", lambda x: x[[0, 1], :, 0], [((2, 3, 4), ANY)]),
    ("getitem_arrays_adjacent", lambda x: x[:, 1, [0, 3, 3]], [((2, 3, 4), ANY)]),
    ("getitem_array_newaxis_slice", lambda x: x[None, 1:, [2, 0]], [((3, 4), ANY)]),
    ("getitem_constant_mask", lambda x: x[MASK], [((3, 4), ANY)]),
    ("getitem_constant_mask_rows", lambda x: x[np.array([True, False, True])], [((3, 2), ANY)]),
    ("getitem_mask_and_ellipsis", lambda x: x[..., np.array([False, True, True])], [((2, 2, 3), ANY)]),
    ("take_axis", lambda x: rg.take(x, [2, 0, 2], axis=1), [((2, 3), ANY)]),
    ("take_flat", lambda x: rg.take(x, np.array([[5, 0], [5, 1]])), [((2, 3), ANY)]),
]
