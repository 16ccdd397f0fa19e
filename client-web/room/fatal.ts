// The page a room shows instead of a meeting when it cannot open one, with the reason and a way
// back to the start page. Plain DOM: it must work before (or without) the rest of the client.

export function showFatal(message: string): void {
  const main = document.createElement("main");
  main.className = "fatal";
  const heading = document.createElement("h1");
  heading.textContent = "Cannot open this meeting";
  const text = document.createElement("p");
  text.setAttribute("role", "alert");
  text.textContent = message;
  const home = document.createElement("a");
  home.href = "/";
  home.textContent = "Start or join a meeting";
  main.append(heading, text, home);
  document.body.replaceChildren(main);
}
