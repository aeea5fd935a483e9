/**
 * Labels from paths, as a person lays out a gallery: the folder holding an
 * image names the identity (LFW's Name/Name_0001.jpg); an image straight in
 * the dropped folder, or dropped on its own, is its own identity.
 */

const IMAGE_EXT = /\.(jpe?g|png|webp|bmp|gif)$/i;

function stem(fileName: string): string {
  return fileName.replace(/\.[^.]*$/, '');
}

/** `relativePath` as the browser gives it (webkitRelativePath or a zip entry), "/"-separated. */
export function identityFromPath(relativePath: string): string {
  const parts = relativePath.split('/').filter((p) => p.length > 0 && p !== '.');
  const file = parts[parts.length - 1] ?? relativePath;
  if (parts.length >= 3) return parts[parts.length - 2];
  return stem(file);
}

export function looksLikeImageName(name: string): boolean {
  return IMAGE_EXT.test(name);
}

/** A query's identity, when its name tells it: a gallery identity equal to its folder or to its LFW-style stem "Name_0003". */
export function guessQueryIdentity(relativePath: string, galleryIdentities: ReadonlySet<string>): string | undefined {
  const parts = relativePath.split('/').filter(Boolean);
  if (parts.length >= 2 && galleryIdentities.has(parts[parts.length - 2])) return parts[parts.length - 2];
  const s = stem(parts[parts.length - 1] ?? '');
  if (galleryIdentities.has(s)) return s;
  const m = /^(.+)_\d+$/.exec(s);
  if (m && galleryIdentities.has(m[1])) return m[1];
  return undefined;
}
