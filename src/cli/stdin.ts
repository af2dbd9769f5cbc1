/** `-f -`: read the manifests from standard input, like `kubectl apply -f -`. */
export const STDIN_TARGET = '-';

/** What messages call standard input where they would name a file. */
export const STDIN_NAME = '<stdin>';
