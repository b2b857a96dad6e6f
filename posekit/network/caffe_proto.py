"""Network stage, import side: the few Caffe protobuf messages posekit reads, built at import.

Caffe stores a trained net (``.caffemodel``) as a binary ``NetParameter`` message and a net
definition (``.prototxt``) as the same message in protobuf's text format. posekit needs
only layer names, types, connections, convolution/pooling/concat settings and the weight
blobs, so this module declares just that subset of Caffe's ``caffe.proto`` (field names,
numbers and types as Caffe defines them; the protobuf library does all decoding). Fields
not declared here are skipped by the parser as unknown fields.

One deliberate choice: ``BlobProto.data`` (and ``double_data``) is Caffe's packed
``repeated float``; packed repeated fields travel on the wire exactly like a ``bytes``
field, so they are declared as ``bytes`` here. The parser then hands over the raw
little-endian floats, which numpy views in place: no per-value decoding and no second
copy of the weights (``benchmarks/test_import.py`` compares both readings).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["caffe_messages", "V1_TYPES"]

_PACKAGE = "posekit_caffe"

_F = descriptor_pb2.FieldDescriptorProto
# (name, number, type, label, message/enum type name or None)
_OPT, _REP = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
_MESSAGES: dict[str, list[tuple[str, int, int, int, str | None]]] = {
    "BlobShape": [("dim", 1, _F.TYPE_INT64, _REP, None)],
    "BlobProto": [
        ("shape", 7, _F.TYPE_MESSAGE, _OPT, "BlobShape"),
        ("data", 5, _F.TYPE_BYTES, _OPT, None),          # packed float32 (see above)
        ("double_data", 8, _F.TYPE_BYTES, _OPT, None),   # packed float64
        ("num", 1, _F.TYPE_INT64, _OPT, None),           # legacy 4-D shape
        ("channels", 2, _F.TYPE_INT64, _OPT, None),
        ("height", 3, _F.TYPE_INT64, _OPT, None),
        ("width", 4, _F.TYPE_INT64, _OPT, None),
    ],
    "ConvolutionParameter": [
        ("num_output", 1, _F.TYPE_UINT32, _OPT, None),
        ("bias_term", 2, _F.TYPE_BOOL, _OPT, None),
        ("pad", 3, _F.TYPE_UINT32, _REP, None),
        ("kernel_size", 4, _F.TYPE_UINT32, _REP, None),
        ("group", 5, _F.TYPE_UINT32, _OPT, None),
        ("stride", 6, _F.TYPE_UINT32, _REP, None),
        ("pad_h", 9, _F.TYPE_UINT32, _OPT, None),
        ("pad_w", 10, _F.TYPE_UINT32, _OPT, None),
        ("kernel_h", 11, _F.TYPE_UINT32, _OPT, None),
        ("kernel_w", 12, _F.TYPE_UINT32, _OPT, None),
        ("stride_h", 13, _F.TYPE_UINT32, _OPT, None),
        ("stride_w", 14, _F.TYPE_UINT32, _OPT, None),
        ("dilation", 18, _F.TYPE_UINT32, _REP, None),
    ],
    "PoolingParameter": [
        ("pool", 1, _F.TYPE_ENUM, _OPT, "PoolingParameter.PoolMethod"),
        ("kernel_size", 2, _F.TYPE_UINT32, _OPT, None),
        ("stride", 3, _F.TYPE_UINT32, _OPT, None),
        ("pad", 4, _F.TYPE_UINT32, _OPT, None),
        ("global_pooling", 12, _F.TYPE_BOOL, _OPT, None),
    ],
    "ConcatParameter": [
        ("concat_dim", 1, _F.TYPE_UINT32, _OPT, None),
        ("axis", 2, _F.TYPE_INT32, _OPT, None),
    ],
    "ReLUParameter": [("negative_slope", 1, _F.TYPE_FLOAT, _OPT, None)],
    "PReLUParameter": [("channel_shared", 2, _F.TYPE_BOOL, _OPT, None)],
    "LayerParameter": [
        ("name", 1, _F.TYPE_STRING, _OPT, None),
        ("type", 2, _F.TYPE_STRING, _OPT, None),
        ("bottom", 3, _F.TYPE_STRING, _REP, None),
        ("top", 4, _F.TYPE_STRING, _REP, None),
        ("blobs", 7, _F.TYPE_MESSAGE, _REP, "BlobProto"),
        ("concat_param", 104, _F.TYPE_MESSAGE, _OPT, "ConcatParameter"),
        ("convolution_param", 106, _F.TYPE_MESSAGE, _OPT, "ConvolutionParameter"),
        ("pooling_param", 121, _F.TYPE_MESSAGE, _OPT, "PoolingParameter"),
        ("relu_param", 123, _F.TYPE_MESSAGE, _OPT, "ReLUParameter"),
        ("prelu_param", 131, _F.TYPE_MESSAGE, _OPT, "PReLUParameter"),
    ],
    # Caffe's pre-2015 layer message (NetParameter.layers); the type is an enum there.
    "V1LayerParameter": [
        ("bottom", 2, _F.TYPE_STRING, _REP, None),
        ("top", 3, _F.TYPE_STRING, _REP, None),
        ("name", 4, _F.TYPE_STRING, _OPT, None),
        ("type", 5, _F.TYPE_ENUM, _OPT, "V1LayerParameter.LayerType"),
        ("blobs", 6, _F.TYPE_MESSAGE, _REP, "BlobProto"),
        ("concat_param", 9, _F.TYPE_MESSAGE, _OPT, "ConcatParameter"),
        ("convolution_param", 10, _F.TYPE_MESSAGE, _OPT, "ConvolutionParameter"),
        ("pooling_param", 19, _F.TYPE_MESSAGE, _OPT, "PoolingParameter"),
        ("relu_param", 30, _F.TYPE_MESSAGE, _OPT, "ReLUParameter"),
    ],
    "NetParameter": [
        ("name", 1, _F.TYPE_STRING, _OPT, None),
        ("layers", 2, _F.TYPE_MESSAGE, _REP, "V1LayerParameter"),
        ("input", 3, _F.TYPE_STRING, _REP, None),
        ("input_dim", 4, _F.TYPE_INT64, _REP, None),
        ("input_shape", 8, _F.TYPE_MESSAGE, _REP, "BlobShape"),
        ("layer", 100, _F.TYPE_MESSAGE, _REP, "LayerParameter"),
    ],
}
# enums nested in a message: message -> (enum name, ((value name, number), ...))
_ENUMS: dict[str, tuple[str, tuple[tuple[str, int], ...]]] = {
    "PoolingParameter": ("PoolMethod", (("MAX", 0), ("AVE", 1), ("STOCHASTIC", 2))),
    "V1LayerParameter": ("LayerType", (
        ("NONE", 0), ("ACCURACY", 1), ("BNLL", 2), ("CONCAT", 3), ("CONVOLUTION", 4),
        ("DATA", 5), ("DROPOUT", 6), ("EUCLIDEAN_LOSS", 7), ("FLATTEN", 8),
        ("HDF5_DATA", 9), ("HDF5_OUTPUT", 10), ("IM2COL", 11), ("IMAGE_DATA", 12),
        ("INFOGAIN_LOSS", 13), ("INNER_PRODUCT", 14), ("LRN", 15),
        ("MULTINOMIAL_LOGISTIC_LOSS", 16), ("POOLING", 17), ("RELU", 18), ("SIGMOID", 19),
        ("SOFTMAX", 20), ("SOFTMAX_LOSS", 21), ("SPLIT", 22), ("TANH", 23),
        ("WINDOW_DATA", 24), ("ELTWISE", 25), ("POWER", 26),
        ("SIGMOID_CROSS_ENTROPY_LOSS", 27), ("HINGE_LOSS", 28), ("MEMORY_DATA", 29),
        ("ARGMAX", 30), ("THRESHOLD", 31), ("DUMMY_DATA", 32), ("SLICE", 33), ("MVN", 34),
        ("ABSVAL", 35), ("SILENCE", 36), ("CONTRASTIVE_LOSS", 37), ("EXP", 38),
        ("DECONVOLUTION", 39),
    )),
}
# V1 enum type -> the type string of the current LayerParameter
V1_TYPES = {"CONVOLUTION": "Convolution", "POOLING": "Pooling", "RELU": "ReLU",
            "CONCAT": "Concat", "DATA": "Data", "SPLIT": "Split", "SLICE": "Slice",
            "EUCLIDEAN_LOSS": "EuclideanLoss", "ELTWISE": "Eltwise", "SILENCE": "Silence"}


@cache
def caffe_messages() -> dict[str, Any]:
    """Message classes by Caffe name (``NetParameter``, ``LayerParameter``, ``BlobProto`` ...).

    Built once, in a private descriptor pool, so they cannot clash with a real
    ``caffe.proto`` that another library may have loaded.
    """
    file = descriptor_pb2.FileDescriptorProto(name="posekit_caffe_subset.proto",
                                              package=_PACKAGE, syntax="proto2")
    for name, fields in _MESSAGES.items():
        msg = file.message_type.add(name=name)
        if name in _ENUMS:
            enum_name, values = _ENUMS[name]
            enum = msg.enum_type.add(name=enum_name)
            for value_name, number in values:
                enum.value.add(name=value_name, number=number)
        for fname, number, ftype, label, type_name in fields:
            field = msg.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name is not None:
                field.type_name = f".{_PACKAGE}.{type_name}"
            if label == _REP and ftype in (_F.TYPE_INT64, _F.TYPE_UINT32):
                # as caffe.proto declares them (parsers accept either encoding)
                field.options.packed = (name, fname) == ("BlobShape", "dim")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {name: message_factory.GetMessageClass(
        pool.FindMessageTypeByName(f"{_PACKAGE}.{name}")) for name in _MESSAGES}
