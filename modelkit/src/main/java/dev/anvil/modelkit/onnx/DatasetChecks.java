package dev.anvil.modelkit.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;
import dev.anvil.modelkit.datasets.DatasetFormatException;
import dev.anvil.modelkit.datasets.DatasetManifest;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.NpyDtype;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Whether a dataset fits a model, from the array headers, the manifest and the session's signature alone:
 * dtypes, shapes with each input's batch axis in place, constants, and state inputs against their outputs.
 * Each check names the first mismatch and the fix, before any data is read.
 */
final class DatasetChecks {
    private DatasetChecks() {}

    /** Checks that the dataset holds every model input with the model's dtype and shape, batch axes considered. */
    static void check(Map<String, NodeInfo> modelInputs, DatasetReader reader) {
        List<String> arrays = reader.inputNames();
        DatasetManifest manifest = reader.manifest();
        for (NodeInfo info : modelInputs.values()) {
            String name = info.getName();
            if (!(info.getInfo() instanceof TensorInfo tensor)) {
                throw new DatasetFormatException("model input '" + name + "' is not a tensor (" + info.getInfo()
                        + "); only tensor inputs can be fed from a dataset");
            }
            NpyDtype wanted = dtypeFor(name, tensor.type);
            long[] modelShape = tensor.getShape();
            if (!manifest.needsArray(name)) {
                checkZeroState(name, modelShape, manifest);
                continue;
            }
            if (!arrays.contains(name)) {
                throw new DatasetFormatException("the dataset has no array for model input '" + name + "'; it has "
                        + arrays + " (name each array <model input>.npy)");
            }
            NpyDtype got = reader.dtype(name);
            if (got != wanted) {
                throw new DatasetFormatException("dataset array '" + name + "' is " + got.descr() + " but model input '"
                        + name + "' takes " + tensor.type + " (" + wanted.descr() + "); save it with arr.astype('"
                        + wanted.descr() + "')");
            }
            if (manifest.isBatched(name)) {
                checkBatched(name, modelShape, reader.shape(name), manifest.batchAxis(name));
            } else {
                checkConstant(name, modelShape, reader.shape(name));
            }
        }
        manifest.state().keySet().forEach(input -> {
            if (!modelInputs.containsKey(input)) {
                throw new DatasetFormatException(DatasetManifest.ENTRY + " declares state for '" + input
                        + "', which is not an input of the model; its inputs are " + modelInputs.keySet());
            }
        });
    }

    private static void checkBatched(String name, long[] modelShape, long[] stored, int axis) {
        long[] sample = Arrays.copyOfRange(stored, 1, stored.length);
        if (stored.length != modelShape.length) {
            throw new DatasetFormatException("dataset array '" + name + "' has samples of shape " + Arrays.toString(sample)
                    + " (rank " + stored.length + " with the sample axis) but model input '" + name + "' has rank "
                    + modelShape.length + " " + describe(modelShape));
        }
        long[] fed = fedShape(sample, axis);
        for (int i = 0; i < modelShape.length; i++) {
            if (i != axis && modelShape[i] > 0 && modelShape[i] != fed[i]) {
                throw new DatasetFormatException("dataset array '" + name + "' is fed as " + describe(fed)
                        + " (samples " + Arrays.toString(sample) + " on batch axis " + axis + ") but model input '"
                        + name + "' is " + describe(modelShape) + ": axis " + i + " is " + fed[i]
                        + " in the dataset and " + modelShape[i] + " in the model"
                        + (axis == 0 ? "" : "; store the array sample-first (np.moveaxis(a, " + axis + ", 0))"));
            }
        }
    }

    private static void checkConstant(String name, long[] modelShape, long[] stored) {
        boolean fits = stored.length == modelShape.length;
        for (int i = 0; fits && i < modelShape.length; i++) {
            fits = modelShape[i] <= 0 || modelShape[i] == stored[i];
        }
        if (!fits) {
            throw new DatasetFormatException("dataset array '" + name + "' is constant (batch_axis null) and fed as it is, "
                    + Arrays.toString(stored) + ", but model input '" + name + "' is " + describe(modelShape)
                    + "; store exactly the model's shape (a 0-d array for a scalar: np.array(16000))");
        }
    }

    private static void checkZeroState(String name, long[] modelShape, DatasetManifest manifest) {
        int axis = manifest.batchAxis(name);
        if (axis >= modelShape.length) {
            throw new DatasetFormatException(DatasetManifest.ENTRY + ": inputs." + name + ".batch_axis is " + axis
                    + " but model input '" + name + "' is " + describe(modelShape) + "; the axis must be 0.."
                    + (modelShape.length - 1));
        }
        for (int i = 0; i < modelShape.length; i++) {
            if (i != axis && modelShape[i] <= 0) {
                throw new DatasetFormatException("state input '" + name + "' starts from zeros but the model leaves axis "
                        + i + " of its shape " + describe(modelShape) + " open (the batch axis is " + axis
                        + "); store the initial state in the dataset instead (\"initial\": \"dataset\")");
            }
        }
    }

    static void checkState(Map<String, NodeInfo> inputs, Map<String, NodeInfo> outputs, DatasetManifest manifest) {
        manifest.state().forEach((input, state) -> {
            NodeInfo out = outputs.get(state.output());
            if (out == null) {
                throw new DatasetFormatException(DatasetManifest.ENTRY + ": state '" + input + "' is fed back from output '"
                        + state.output() + "', which the model does not have; its outputs are " + outputs.keySet());
            }
            TensorInfo in = (TensorInfo) inputs.get(input).getInfo();
            if (!(out.getInfo() instanceof TensorInfo o) || o.type != in.type) {
                throw new DatasetFormatException(DatasetManifest.ENTRY + ": state output '" + state.output() + "' is "
                        + out.getInfo() + " but input '" + input + "' takes " + in.type + "; a state output must be a"
                        + " tensor of the input's type");
            }
            long[] a = in.getShape();
            long[] b = o.getShape();
            boolean same = a.length == b.length;
            for (int i = 0; same && i < a.length; i++) {
                same = a[i] <= 0 || b[i] <= 0 || a[i] == b[i];
            }
            if (!same) {
                throw new DatasetFormatException(DatasetManifest.ENTRY + ": state input '" + input + "' is " + describe(a)
                        + " but output '" + state.output() + "' is " + describe(b)
                        + "; the output of one step must fit the input of the next");
            }
        });
    }

    private static long[] fedShape(long[] sample, int axis) {
        long[] fed = new long[sample.length + 1];
        for (int i = 0, j = 0; i < fed.length; i++) {
            fed[i] = i == axis ? -1 : sample[j++];
        }
        return fed;
    }

    private static String describe(long[] shape) {
        List<String> dims = new ArrayList<>();
        for (long d : shape) {
            dims.add(d > 0 ? Long.toString(d) : d == 0 ? "0" : "?");
        }
        return "[" + String.join(", ", dims) + "]";
    }

    static NpyDtype dtypeFor(String name, OnnxJavaType type) {
        return switch (type) {
            case FLOAT -> NpyDtype.FLOAT32;
            case DOUBLE -> NpyDtype.FLOAT64;
            case FLOAT16 -> NpyDtype.FLOAT16;
            case INT64 -> NpyDtype.INT64;
            case INT32 -> NpyDtype.INT32;
            case UINT8 -> NpyDtype.UINT8;
            case BOOL -> NpyDtype.BOOL;
            default -> throw new DatasetFormatException("model input '" + name + "' takes " + type
                    + ", which datasets cannot hold (they hold float32, float64, float16, int64, int32, uint8 and bool)");
        };
    }

}
