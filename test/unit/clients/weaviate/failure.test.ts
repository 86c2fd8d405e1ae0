// Reasons for failures the stand-in cannot easily provoke, in the shapes
// weaviate-ts-client and graphql-request throw them.
import { describe, expect, it } from 'vitest';
import { weaviateFailure } from '../../../../clients/weaviate/failure.js';

const target = { origin: 'http://wv:8080', className: 'AifbBench', dimension: 128 };

/** graphql-request's ClientError: the message ends in the JSON of the answer, which rides along in `response`. */
function graphqlError(status: number, message: string): Error {
  return Object.assign(new Error(`${message}: {"response":{"status":${status}}}`), { response: { status, errors: [{ message }] } });
}

describe('weaviateFailure', () => {
  it('a search with a vector of another length: the dimension the class holds, on workload.dimension', () => {
    const e = graphqlError(200, "explorer: get class: vector search: knn search: distance between entrypoint and query node: vector lengths don't match: 96 vs 128");
    expect(weaviateFailure(e, 'search', target)).toEqual({
      path: 'workload.dimension',
      message: 'class "AifbBench" at http://wv:8080 holds vectors of length 96; workload.dimension is 128: set dimension to 96, or set workload.className to another class (or delete class AifbBench)',
    });
  });

  it("a REST answer: Weaviate's own message with its status, and the fix where retrying cannot help", () => {
    expect(weaviateFailure(new Error('usage error (403): {"code":403,"message":"forbidden: user lacks update_data"}'), 'batch import', target)).toEqual({
      path: 'service.credentials.token',
      message: 'Weaviate at http://wv:8080 forbids batch import on class "AifbBench" to this API key (HTTP 403: forbidden: user lacks update_data); give the key\'s user rights on the class, or use another key',
    });
    expect(weaviateFailure(new Error('usage error (500): {"error":[{"message":"disk full"}]}'), 'batch import', target)).toEqual({ message: 'batch import failed at Weaviate at http://wv:8080 (HTTP 500): disk full' });
  });

  it('network errors from fetch: the cause named, with what to check', () => {
    const e = new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND wv'), { code: 'ENOTFOUND' }) });
    expect(weaviateFailure(e, 'search', target).message).toBe("the host of Weaviate at http://wv:8080 was not found (ENOTFOUND); check the Service's host");
  });
});
