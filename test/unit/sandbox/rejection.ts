/** An AWS SDK error as the sandbox tests inspect it. */
export type AwsError = Error & { $metadata?: { attempts?: number; httpStatusCode?: number }; $fault?: string; Code?: string };

/** The error `p` rejects with; fails the test when `p` resolves. */
export async function rejection(p: Promise<unknown>): Promise<AwsError> {
  try {
    await p;
  } catch (err) {
    return err as AwsError;
  }
  throw new Error("expected the call to fail");
}
