// Checks an image given by the user: a `docker://` (or `oras://`, `library://`)
// reference, or the path of a SIF file or sandbox folder. Returns problems, never throws.
import type { FieldProblem } from '../api/problems.js';

// The grammar of github.com/distribution/reference, which Apptainer's docker:// follows.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_PART}(?:\\.${DOMAIN_PART})*(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);
const LIBRARY_REFERENCE = /^[A-Za-z0-9][\w.-]*(?:\/[A-Za-z0-9][\w.-]*){0,3}(?::[\w][\w.-]*)?$/;

const SCHEMES = ['docker', 'oras', 'library'] as const;
const CONTROL = /[\u0000-\u001f\u007f]/;

export function isRegistryRef(image: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//.test(image);
}

/** True when `ref` (without a scheme) is a valid docker reference such as `nvcr.io/nvidia/tritonserver:24.08-py3`. */
export function isDockerReference(ref: string): boolean {
  return ref.length <= 255 && REFERENCE.test(ref);
}

export function imageProblems(image: string, field = 'spec.image'): FieldProblem[] {
  if (image.trim() === '') {
    return [{ path: field, message: 'must not be empty; give a SIF path or a docker:// reference, or remove it to use the catalog image' }];
  }
  if (CONTROL.test(image)) {
    return [{ path: field, message: 'must not contain newlines or control characters; give one SIF path or one docker:// reference' }];
  }
  if (image.startsWith('-')) {
    return [{ path: field, message: 'must not start with "-" (Apptainer would read it as a flag); write ./' + image + ' for a relative path' }];
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/.exec(image);
  if (scheme) {
    const [, name, ref] = scheme;
    if (!(SCHEMES as readonly string[]).includes(name)) {
      return [{ path: field, message: `unsupported image scheme "${name}://"; use docker://<registry/name:tag>, oras://, library:// or a SIF path` }];
    }
    const ok = name === 'library' ? LIBRARY_REFERENCE.test(ref) : isDockerReference(ref);
    if (!ok) {
      return [
        {
          path: field,
          message: `"${image}" is not a valid image reference; write ${name}://[registry/]name[:tag], lowercase, e.g. docker://vllm/vllm-openai:latest`,
        },
      ];
    }
    return [];
  }
  const pathLike = image.startsWith('/') || image.startsWith('./') || image.startsWith('../') || /\.(sif|img|simg)$/.test(image);
  if (!pathLike && image.includes(':') && isDockerReference(image)) {
    return [{ path: field, message: `"${image}" looks like a registry reference; write docker://${image}, or give the path of a .sif file` }];
  }
  return [];
}
