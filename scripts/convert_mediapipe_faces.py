"""Convert MediaPipe's BlazeFace (short range), Face Mesh and iris/eyelid landmark .tflite files to ONNX graphs.

The two networks are plain CNNs (CONV_2D, DEPTHWISE_CONV_2D, ADD, RELU, PRELU, PAD, MAX_POOL_2D,
RESHAPE, CONCATENATION and DEQUANTIZE of float16 weights), so this script reads the .tflite
flatbuffer with the ``tflite`` schema package and writes the same operators in ONNX (NCHW inside,
the model's NHWC input and outputs kept). ``tflite2onnx`` 0.4.1 was tried first: it converts BlazeFace
but fails on the landmark model's PRELU layout, and tf2onnx needs TensorFlow; this is ~150 lines.

Reproduce (in a throw-away environment; nothing here is needed at run time)::

    python -m venv /tmp/conv && . /tmp/conv/bin/activate
    pip install tflite==2.18.0 onnx numpy ai-edge-litert==2.3.0 onnxruntime
    pip download mediapipe==0.10.14 --no-deps -d /tmp/mp
    python scripts/convert_mediapipe_faces.py /tmp/mp/mediapipe-0.10.14-*.whl

It writes ``src/photocritic/zoo/graphs/blazeface-short-range.onnx``, ``face-landmark-468.onnx`` and
``iris-landmark.onnx`` (float16 weights in the .tflite files are stored as float32 here), copies mediapipe's Apache-2.0 licence
next to them, and checks, when ``ai-edge-litert`` is installed, that ONNX Runtime's outputs equal the
TFLite interpreter's on random and real inputs (printing the largest difference; it fails above 1e-3 of
the output's range).
"""
from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GRAPHS = ROOT / "src" / "photocritic" / "zoo" / "graphs"

MODELS = {
    "mediapipe/modules/face_detection/face_detection_short_range.tflite": "blazeface-short-range.onnx",
    "mediapipe/modules/face_landmark/face_landmark.tflite": "face-landmark-468.onnx",
    "mediapipe/modules/iris_landmark/iris_landmark.tflite": "iris-landmark.onnx",  # eyelid contours, 64x64 eye crops
}
NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def convert(data: bytes, name: str):
    import onnx
    import tflite
    from onnx import TensorProto, helper, numpy_helper

    model = tflite.Model.GetRootAsModel(data, 0)
    graph = model.Subgraphs(0)
    op_names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    dtype = {tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.FLOAT16: np.float16, tflite.TensorType.INT32: np.int32}

    def tensor(i):
        return graph.Tensors(i)

    def shape(i):
        return [int(s) for s in tensor(i).ShapeAsNumpy()]

    consts: dict[int, np.ndarray] = {}
    for i in range(graph.TensorsLength()):
        t = tensor(i)
        buf = model.Buffers(t.Buffer())
        if buf is not None and buf.DataLength() > 0:
            raw = buf.DataAsNumpy().tobytes()
            consts[i] = np.frombuffer(raw, dtype=dtype[t.Type()]).reshape(shape(i))

    nodes, inits = [], []
    names: dict[int, str] = {}

    def ref(i):
        return names.get(i, f"t{i}")

    def init(arr, label):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), label))
        return label

    def activation(code, out_name):
        """Fused activation after a node whose raw output is *out_name* + '_pre'."""
        if code == tflite.ActivationFunctionType.NONE:
            return out_name
        if code == tflite.ActivationFunctionType.RELU:
            nodes.append(helper.make_node("Relu", [out_name + "_pre"], [out_name]))
            return out_name + "_pre"
        raise NotImplementedError(f"fused activation {code}")

    def same_pads(in_hw, k, s, dil=(1, 1)):
        pads_begin, pads_end = [], []
        for size, kk, ss, dd in zip(in_hw, k, s, dil):
            eff = (kk - 1) * dd + 1
            out = -(-size // ss)
            total = max((out - 1) * ss + eff - size, 0)
            pads_begin.append(total // 2)
            pads_end.append(total - total // 2)
        return pads_begin + pads_end

    inp = graph.Inputs(0)
    _, h, w, c = shape(inp)
    graph_inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", h, w, c])]  # batched: tiles, faces
    nodes.append(helper.make_node("Transpose", ["input"], [ref(inp)], perm=[0, 3, 1, 2]))
    layout_nchw = {inp}

    for k in range(graph.OperatorsLength()):
        op = graph.Operators(k)
        code_entry = model.OperatorCodes(op.OpcodeIndex())
        code = max(code_entry.BuiltinCode(), code_entry.DeprecatedBuiltinCode())
        kind = op_names[code]
        ins = [int(i) for i in op.InputsAsNumpy()]
        outs = [int(i) for i in op.OutputsAsNumpy()]
        out = outs[0]
        opts = op.BuiltinOptions()
        if kind == "DEQUANTIZE":
            consts[out] = consts[ins[0]].astype(np.float32)
            continue
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            o = tflite.Conv2DOptions() if kind == "CONV_2D" else tflite.DepthwiseConv2DOptions()
            o.Init(opts.Bytes, opts.Pos)
            weight = consts[ins[1]].astype(np.float32)
            bias = consts[ins[2]].astype(np.float32) if len(ins) > 2 and ins[2] >= 0 else np.zeros(weight.shape[0 if kind == "CONV_2D" else 3], np.float32)
            if kind == "CONV_2D":
                weight = weight.transpose(0, 3, 1, 2)  # OHWI -> OIHW
                group = 1
            else:
                weight = weight.transpose(3, 0, 1, 2)  # 1HW(C*m) -> (C*m)1HW
                group = shape(ins[0])[3]
            kh, kw = weight.shape[2:]
            strides = [o.StrideH(), o.StrideW()]
            dil = [o.DilationHFactor(), o.DilationWFactor()]
            pads = same_pads(shape(ins[0])[1:3], (kh, kw), strides, dil) if o.Padding() == tflite.Padding.SAME else [0, 0, 0, 0]
            target = activation(o.FusedActivationFunction(), ref(out))
            nodes.append(helper.make_node("Conv", [ref(ins[0]), init(weight, f"w{k}"), init(bias, f"b{k}")], [target], kernel_shape=[kh, kw], strides=strides, dilations=dil, pads=pads, group=group))
            layout_nchw.add(out)
        elif kind == "MAX_POOL_2D":
            o = tflite.Pool2DOptions()
            o.Init(opts.Bytes, opts.Pos)
            kshape = [o.FilterHeight(), o.FilterWidth()]
            strides = [o.StrideH(), o.StrideW()]
            pads = same_pads(shape(ins[0])[1:3], kshape, strides) if o.Padding() == tflite.Padding.SAME else [0, 0, 0, 0]
            target = activation(o.FusedActivationFunction(), ref(out))
            nodes.append(helper.make_node("MaxPool", [ref(ins[0])], [target], kernel_shape=kshape, strides=strides, pads=pads))
            layout_nchw.add(out)
        elif kind == "ADD":
            o = tflite.AddOptions()
            o.Init(opts.Bytes, opts.Pos)
            if any(i in consts for i in ins):
                raise NotImplementedError("ADD of a constant")
            target = activation(o.FusedActivationFunction(), ref(out))
            nodes.append(helper.make_node("Add", [ref(ins[0]), ref(ins[1])], [target]))
            if ins[0] in layout_nchw:
                layout_nchw.add(out)
        elif kind == "RELU":
            nodes.append(helper.make_node("Relu", [ref(ins[0])], [ref(out)]))
            if ins[0] in layout_nchw:
                layout_nchw.add(out)
        elif kind == "PRELU":
            alpha = consts[ins[1]].astype(np.float32).reshape(-1)  # [1,1,C] in NHWC
            nodes.append(helper.make_node("PRelu", [ref(ins[0]), init(alpha.reshape(-1, 1, 1), f"a{k}")], [ref(out)]))
            layout_nchw.add(out)
        elif kind == "PAD":
            pad = consts[ins[1]].astype(np.int64)  # [4, 2] in NHWC
            order = [0, 3, 1, 2]
            pads = [int(pad[a, 0]) for a in order] + [int(pad[a, 1]) for a in order]
            nodes.append(helper.make_node("Pad", [ref(ins[0]), init(np.array(pads, np.int64), f"p{k}")], [ref(out)], mode="constant"))
            layout_nchw.add(out)
        elif kind == "RESHAPE":
            src = ref(ins[0])
            if ins[0] in layout_nchw:  # back to NHWC so the flattening order is TFLite's
                nodes.append(helper.make_node("Transpose", [src], [src + "_nhwc"], perm=[0, 2, 3, 1]))
                src = src + "_nhwc"
            new_shape = np.array([-1] + shape(out)[1:], np.int64)  # keep the batch
            nodes.append(helper.make_node("Reshape", [src, init(new_shape, f"s{k}")], [ref(out)]))
        elif kind == "CONCATENATION":
            o = tflite.ConcatenationOptions()
            o.Init(opts.Bytes, opts.Pos)
            axis = o.Axis()
            rank = len(shape(out))
            axis = axis % rank
            if all(i in layout_nchw for i in ins):
                axis = NHWC_TO_NCHW_AXIS[axis]
                layout_nchw.add(out)
            elif any(i in layout_nchw for i in ins):
                raise NotImplementedError("CONCATENATION of mixed layouts")
            target = activation(o.FusedActivationFunction(), ref(out))
            nodes.append(helper.make_node("Concat", [ref(i) for i in ins], [target], axis=axis))
        else:
            raise NotImplementedError(f"{kind} in {name}")

    graph_outputs = []
    for j in range(graph.OutputsLength()):
        o = graph.Outputs(j)
        label = tensor(o).Name().decode()
        if o in layout_nchw:
            nodes.append(helper.make_node("Transpose", [ref(o)], [label], perm=[0, 2, 3, 1]))
        else:
            nodes.append(helper.make_node("Identity", [ref(o)], [label]))
        graph_outputs.append(helper.make_tensor_value_info(label, TensorProto.FLOAT, ["batch"] + shape(o)[1:]))
    onnx_graph = helper.make_graph(nodes, name, graph_inputs, graph_outputs, inits)
    result = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="photocritic scripts/convert_mediapipe_faces.py")
    result.ir_version = 8
    onnx.checker.check_model(result)
    return result


def verify(tflite_bytes: bytes, onnx_path: Path, samples: list[np.ndarray]) -> float:
    """Largest |ONNX - TFLite| over the outputs, relative to each output's range; nan if no interpreter."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        print("  ai-edge-litert not installed: outputs not compared with the TFLite interpreter")
        return float("nan")
    import onnxruntime

    interpreter = Interpreter(model_content=tflite_bytes)
    interpreter.allocate_tensors()
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    worst = 0.0
    batch = np.concatenate(samples)
    batched = session.run(None, {"input": batch})  # the graphs take a batch; TFLite's take one
    for j, x in enumerate(samples):
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
        interpreter.invoke()
        expected = {d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}
        got = dict(zip([o.name for o in session.get_outputs()], [b[j : j + 1] for b in batched]))
        for key, value in expected.items():
            span = float(value.max() - value.min()) or 1.0
            diff = float(np.abs(got[key].reshape(value.shape) - value).max())
            worst = max(worst, diff / span)
            print(f"  {key}: max |onnx - tflite| = {diff:.2e} (output range {span:.3g})")
    return worst


def real_inputs(size: int) -> list[np.ndarray]:
    """A few real photos of faces from ../shared/data/faces, resized to the model input, in [-1, 1]."""
    from PIL import Image

    folder = ROOT.parent / "shared" / "data" / "faces"
    out = []
    for path in sorted(folder.glob("*/*.jpg"))[:4]:
        img = Image.open(path).convert("RGB").resize((size, size))
        out.append((np.asarray(img, np.float32)[None] / 127.5 - 1.0).astype(np.float32))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", help="mediapipe-0.10.14-*.whl (pip download mediapipe==0.10.14 --no-deps)")
    parser.add_argument("--out", default=str(GRAPHS))
    args = parser.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    import onnx

    worst = 0.0
    with zipfile.ZipFile(args.wheel) as wheel:
        licence = wheel.read("mediapipe-0.10.14.dist-info/LICENSE")
        (out_dir / "LICENSE-mediapipe.txt").write_bytes(licence)
        for member, target in MODELS.items():
            data = wheel.read(member)
            graph = convert(data, Path(member).stem)
            onnx.save(graph, out_dir / target)
            size = graph.graph.input[0].type.tensor_type.shape.dim[1].dim_value
            print(f"{member} -> {out_dir / target} ({(out_dir / target).stat().st_size / 1e6:.2f} MB)")
            rng = np.random.default_rng(0)
            samples = [rng.uniform(-1, 1, (1, size, size, 3)).astype(np.float32) for _ in range(3)] + real_inputs(size)
            worst = max(worst, verify(data, out_dir / target, samples))
    if worst > 1e-3:
        print(f"ONNX and TFLite outputs differ by {worst:.2e} of their range", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
