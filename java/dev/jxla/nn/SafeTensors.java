package dev.jxla.nn;

import dev.jxla.DType;
import dev.jxla.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors file format (huggingface/safetensors): an 8-byte little-endian header length
 * N, N bytes of UTF-8 JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
 * "__metadata__": {"k": "v"}}, padded with spaces to a multiple of 8, then the raw
 * little-endian row-major data; offsets are relative to the end of the header. Tensors are
 * written in name order and read back bit-identically.
 */
public final class SafeTensors {
  private SafeTensors() {}

  static String code(DType d) {
    switch (d) {
      case F32: return "F32";
      case F64: return "F64";
      case BF16: return "BF16";
      case F16: return "F16";
      case S32: return "I32";
      case S64: return "I64";
      case BOOL: return "BOOL";
      default: throw new IllegalArgumentException("safetensors: unsupported dtype " + d);
    }
  }

  static DType dtype(String c) {
    switch (c) {
      case "F32": return DType.F32;
      case "F64": return DType.F64;
      case "BF16": return DType.BF16;
      case "F16": return DType.F16;
      case "I32": return DType.S32;
      case "I64": return DType.S64;
      case "BOOL": return DType.BOOL;
      default: throw new IllegalArgumentException("safetensors: unsupported dtype '" + c + "'");
    }
  }

  /** Writes tensors (materializing them) and string metadata to file. */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
    List<String> names = new ArrayList<>(tensors.keySet());
    java.util.Collections.sort(names);
    StringBuilder h = new StringBuilder("{");
    long off = 0;
    if (metadata != null && !metadata.isEmpty()) {
      h.append("\"__metadata__\":{");
      boolean first = true;
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        h.append(first ? "" : ",").append(Json.quote(e.getKey())).append(':').append(Json.quote(e.getValue()));
        first = false;
      }
      h.append('}');
    }
    for (String n : names) {
      Tensor t = tensors.get(n);
      long bytes = t.numel() * t.dtype().byteSize();
      h.append(h.length() > 1 ? "," : "").append(Json.quote(n)).append(":{\"dtype\":\"").append(code(t.dtype()))
          .append("\",\"shape\":").append(java.util.Arrays.toString(t.shape()).replace(" ", ""))
          .append(",\"data_offsets\":[").append(off).append(',').append(off + bytes).append("]}");
      off += bytes;
    }
    h.append('}');
    while (h.length() % 8 != 0) {
      h.append(' ');
    }
    byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
    while (header.length % 8 != 0) {  // non-ASCII names change the byte length
      h.append(' ');
      header = h.toString().getBytes(StandardCharsets.UTF_8);
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
      len.flip();
      writeFully(ch, len);
      writeFully(ch, ByteBuffer.wrap(header));
      for (String n : names) {
        Tensor t = tensors.get(n);
        int bytes = Math.toIntExact(t.numel() * t.dtype().byteSize());
        ByteBuffer b = ByteBuffer.allocateDirect(Math.max(bytes, 1)).order(ByteOrder.nativeOrder());
        b.limit(bytes);
        if (bytes > 0) {
          t.copyTo(b, t.dtype());
        }
        b.position(0).limit(bytes);
        writeFully(ch, b);
      }
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** Reads every tensor of a safetensors file (host tensors, in file order); the caller closes them. */
  public static Map<String, Tensor> read(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lb, 0);
      long n = lb.getLong(0);
      if (n < 2 || n > size - 8 || n > 100_000_000) {
        throw new IOException("safetensors: bad header length " + n + " in " + file + " (" + size + " bytes)");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) n);
      readFully(ch, hb, 8);
      long base = 8 + n;
      Map<String, Tensor> out = new LinkedHashMap<>();
      try {
        Object parsed = Json.parse(new String(hb.array(), StandardCharsets.UTF_8).trim());
        if (!(parsed instanceof Map)) {
          throw new IOException("safetensors: header is not a JSON object");
        }
        for (Map.Entry<?, ?> e : ((Map<?, ?>) parsed).entrySet()) {
          String name = (String) e.getKey();
          if (name.equals("__metadata__")) {
            continue;
          }
          Map<?, ?> info = (Map<?, ?>) e.getValue();
          DType dt = dtype((String) info.get("dtype"));
          List<?> shp = (List<?>) info.get("shape");
          List<?> offs = (List<?>) info.get("data_offsets");
          long[] shape = new long[shp.size()];
          long numel = 1;
          for (int i = 0; i < shape.length; i++) {
            shape[i] = ((Number) shp.get(i)).longValue();
            numel *= shape[i];
          }
          long b = ((Number) offs.get(0)).longValue(), en = ((Number) offs.get(1)).longValue();
          if (en - b != numel * dt.byteSize() || b < 0 || base + en > size) {
            throw new IOException("safetensors: tensor '" + name + "' has data_offsets [" + b + ", " + en
                + "] inconsistent with " + dt + java.util.Arrays.toString(shape) + " or the file size");
          }
          ByteBuffer data = ByteBuffer.allocateDirect((int) Math.max(en - b, 1)).order(ByteOrder.LITTLE_ENDIAN);
          data.limit((int) (en - b));
          readFully(ch, data, base + b);
          data.flip();
          out.put(name, TensorScope0.own(Tensor.of(data, dt, shape)));
        }
      } catch (ClassCastException | NullPointerException | IllegalArgumentException ex) {
        for (Tensor t : out.values()) {
          t.close();
        }
        throw new IOException("safetensors: malformed header in " + file + ": " + ex.getMessage(), ex);
      } catch (IOException ex) {
        for (Tensor t : out.values()) {
          t.close();
        }
        throw ex;
      }
      return out;
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int r = ch.read(b, pos);
      if (r < 0) {
        throw new IOException("safetensors: unexpected end of file");
      }
      pos += r;
    }
  }

  /** Tensors returned to the caller leave any open scope (the caller owns them). */
  private static final class TensorScope0 {
    static Tensor own(Tensor t) {
      return dev.jxla.TensorScope.escape(t);
    }
  }
}
