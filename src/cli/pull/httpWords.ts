/** Why an HTTP answer is not the file, and what to try: the message of `jarvis pull`'s failure. */
export function httpFailureWords(status: number, statusText: string, url: string, sentAuthorization: boolean): string {
  const answered = `${url} answered ${status}${statusText ? ` ${statusText}` : ''}`;
  if (status === 401 || status === 403) {
    const hint = sentAuthorization
      ? 'The token sent was refused: check that it can read this repository and that you accepted the model\'s licence on its page.'
      : 'The file may be gated or private. On Hugging Face, accept the model\'s licence on its page, then set HF_TOKEN=<token> ' +
        '(from huggingface.co/settings/tokens) or pass --header "Authorization: Bearer <token>".';
    return `${answered}: not allowed to download it. ${hint}`;
  }
  if (status === 404 || status === 410) {
    return `${answered}: there is no file at that address. Check the URL (on Hugging Face a file's download link is ` +
      'https://huggingface.co/<owner>/<repo>/resolve/main/<file>.gguf).';
  }
  if (status === 429) return `${answered}: too many requests. Wait a while and run the same command again.`;
  if (status >= 500) return `${answered}: the server failed. Run the same command again later; a partial download resumes.`;
  return `${answered}: that is not the file.`;
}
