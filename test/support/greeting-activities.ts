export function createGreetingActivities(prefix: string) {
  return {
    async composeGreeting(name: string): Promise<string> {
      return `${prefix}, ${name}`;
    },
  };
}
