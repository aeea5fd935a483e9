/** Content hashes: gallery records are keyed by their file's, and model files are checked against the manifest's. */

/** Lower-case hex SHA-256 of `bytes` (WebCrypto: the same in browsers, workers and Node 20). */
export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
