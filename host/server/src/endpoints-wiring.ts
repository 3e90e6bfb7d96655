// placeholder until endpoints land
export async function startEndpoints(_o: unknown): Promise<{ tcpPort: number; stop(): Promise<void> }> {
  throw new Error("endpoints not wired yet");
}
