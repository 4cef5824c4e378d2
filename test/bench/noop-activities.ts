export function createNoopActivities() {
  return {
    async first(): Promise<void> {
      return undefined;
    },
    async second(): Promise<void> {
      return undefined;
    },
  };
}
