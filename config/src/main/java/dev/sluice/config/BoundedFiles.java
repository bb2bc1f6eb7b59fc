package dev.sluice.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Reads the files a policy file names, and the policy file itself, with a size cap and only when
 * they are regular files. {@code /dev/zero} would otherwise fill the heap, a FIFO block the
 * loader forever, and a huge file stall {@code check} and every reload.
 *
 * <p>The cap is checked twice: against the size the file system reports, and while reading (a file
 * that grows meanwhile is still cut off at {@code max + 1} bytes). Stateless and thread-safe.
 */
final class BoundedFiles {
  /** The largest policy file read ({@code -c}): 1 MiB, hundreds of times an ordinary one. */
  static final int MAX_POLICY_BYTES = 1 << 20;
  /** The largest keys file ({@code keys_file}): 16 MiB, about 200,000 sha256 hex keys. */
  static final int MAX_KEYS_BYTES = 16 << 20;
  /** The largest JWKS file ({@code jwks_file}): 1 MiB, far more than any key set. */
  static final int MAX_JWKS_BYTES = 1 << 20;

  private BoundedFiles() {}

  /** Why a file could not be read, as the end of a sentence ("cannot read x: ..."). */
  static final class Unreadable extends Exception {
    private static final long serialVersionUID = 1L;

    Unreadable(String problem) {
      super(problem, null, false, false);
    }
  }

  /**
   * The file's text (UTF-8).
   *
   * @throws Unreadable when it does not exist, is not a regular file (a directory, FIFO, socket or
   *     device), is larger than {@code maxBytes}, is not UTF-8, or cannot be read
   */
  static String readText(Path file, int maxBytes) throws Unreadable {
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(file, BasicFileAttributes.class); // follows symbolic links
    } catch (NoSuchFileException e) {
      throw new Unreadable("no such file");
    } catch (AccessDeniedException e) {
      throw new Unreadable("permission denied");
    } catch (IOException | SecurityException e) {
      throw new Unreadable(String.valueOf(e.getMessage()));
    }
    if (attributes.isDirectory()) {
      throw new Unreadable("it is a directory; expected a regular file");
    }
    if (!attributes.isRegularFile()) {
      throw new Unreadable("it is not a regular file (a device, FIFO or socket); expected a regular file");
    }
    if (attributes.size() > maxBytes) {
      throw new Unreadable(tooLarge(maxBytes));
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(maxBytes + 1);
    } catch (AccessDeniedException e) {
      throw new Unreadable("permission denied");
    } catch (IOException | SecurityException e) {
      throw new Unreadable(String.valueOf(e.getMessage()));
    }
    if (bytes.length > maxBytes) {
      throw new Unreadable(tooLarge(maxBytes));
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new Unreadable("it is not UTF-8 text");
    }
  }

  static String tooLarge(int maxBytes) {
    return "it is larger than " + size(maxBytes) + "; expected a file of at most " + size(maxBytes);
  }

  static String size(int bytes) {
    return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : bytes % 1024 == 0 ? (bytes >> 10) + " KiB" : bytes + " bytes";
  }
}
