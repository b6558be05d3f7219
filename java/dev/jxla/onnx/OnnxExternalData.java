package dev.jxla.onnx;

import com.google.protobuf.UnsafeByteOperations;
import dev.jxla.onnx.proto.Onnx.StringStringEntryProto;
import dev.jxla.onnx.proto.Onnx.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * ONNX external data: a tensor whose bytes live in a file beside the model (`data_location` =
 * EXTERNAL, with `location`, `offset` and `length` entries), as PyTorch writes models above
 * protobuf's 2 GB limit. The bytes are read once, when the model is opened, into the tensor's
 * raw_data; everything after that sees an ordinary tensor.
 *
 * <p>Invariant: a location is a relative path that resolves, after following symbolic links,
 * inside the model's directory (a model file must not make the loader read arbitrary files, the
 * rule ONNX Runtime applies too); anything else, a missing file or a range beyond the file's
 * end is an {@link OnnxException} naming the tensor and the location. The checksum entry is not
 * verified.
 */
final class OnnxExternalData {
  private OnnxExternalData() {}

  private static final int EXTERNAL = 1;

  /** The tensor with its external bytes inlined as raw_data; {@code t} itself if it has none. */
  static TensorProto inline(TensorProto t, Path dir, String what) {
    if (t.getDataLocation() != EXTERNAL) {
      return t;
    }
    String w = what + (t.getName().isEmpty() ? "" : " '" + t.getName() + "'");
    if (dir == null) {
      throw new OnnxException(w + ": external data needs the model's directory; load the model from its file"
          + " (OnnxModel.open or OnnxModel.load with a Path)");
    }
    String location = null;
    long offset = 0;
    long length = -1;
    for (StringStringEntryProto e : t.getExternalDataList()) {
      switch (e.getKey()) {
        case "location" -> location = e.getValue();
        case "offset" -> offset = number(w, "offset", e.getValue());
        case "length" -> length = number(w, "length", e.getValue());
        default -> { }  // checksum and unknown keys: not needed to read the bytes
      }
    }
    if (location == null || location.isEmpty()) {
      throw new OnnxException(w + ": external data without a location");
    }
    Path file = resolve(dir, location, w);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      long n = length < 0 ? size - offset : length;
      if (offset > size || n < 0 || n > size - offset) {
        throw new OnnxException(w + ": external data '" + location + "' range [" + offset + ", " + (offset + Math.max(n, 0))
            + ") is beyond the file's " + size + " bytes");
      }
      if (n > Integer.MAX_VALUE - 8) {
        throw new OnnxException(w + ": external data '" + location + "' holds " + n + " bytes; one tensor is limited to 2 GB");
      }
      ByteBuffer buf = ByteBuffer.allocate((int) n);
      while (buf.hasRemaining()) {
        if (ch.read(buf, offset + buf.position()) < 0) {
          throw new OnnxException(w + ": external data '" + location + "' ended early");
        }
      }
      return t.toBuilder().clearExternalData().clearDataLocation()
          .setRawData(UnsafeByteOperations.unsafeWrap(buf.array())).build();
    } catch (IOException e) {
      throw new OnnxException(w + ": cannot read external data '" + location + "': " + e, e);
    }
  }

  private static long number(String w, String key, String v) {
    try {
      long x = Long.parseLong(v);
      if (x < 0) {
        throw new NumberFormatException("negative");
      }
      return x;
    } catch (NumberFormatException e) {
      throw new OnnxException(w + ": external data " + key + " '" + v + "' is not a non-negative integer");
    }
  }

  private static Path resolve(Path dir, String location, String w) {
    Path rel;
    try {
      rel = Path.of(location);
    } catch (RuntimeException e) {
      throw new OnnxException(w + ": external data location '" + location + "' is not a valid path");
    }
    if (rel.isAbsolute()) {
      throw new OnnxException(w + ": external data location '" + location + "' is absolute; it must be relative to the model's directory");
    }
    try {
      Path base = dir.toRealPath();
      Path file = base.resolve(rel).toRealPath();
      if (!file.startsWith(base)) {
        throw new OnnxException(w + ": external data location '" + location + "' is outside the model's directory " + base);
      }
      if (!Files.isRegularFile(file)) {
        throw new OnnxException(w + ": external data location '" + location + "' is not a regular file");
      }
      return file;
    } catch (NoSuchFileException e) {
      throw new OnnxException(w + ": external data file '" + location + "' does not exist in " + dir);
    } catch (IOException e) {
      throw new OnnxException(w + ": cannot resolve external data location '" + location + "': " + e, e);
    }
  }
}
