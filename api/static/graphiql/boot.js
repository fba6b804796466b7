/* Boots the vendored GraphiQL against this server: queries and mutations over HTTP POST,
 * subscriptions over graphql-transport-ws. The Headers tab's JSON is sent with every HTTP request and,
 * for subscriptions, as the connection_init payload (the server reads "Authorization" there too). */
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = new URL(root.getAttribute("data-endpoint"), window.location.href);
  var wsEndpoint = (endpoint.protocol === "https:" ? "wss://" : "ws://") + endpoint.host + endpoint.pathname;
  var clients = {};

  function wsClient(headers) {
    var key = JSON.stringify(headers);
    if (!clients[key]) {  // one socket per set of headers: a new key means a new connection_init
      clients[key] = graphqlWs.createClient({ url: wsEndpoint, lazy: true, connectionParams: headers });
    }
    return clients[key];
  }

  function fetcher(params, options) {
    var headers = (options && options.headers) || {};
    return GraphiQL.createFetcher({
      url: endpoint.href, wsClient: wsClient(headers), enableIncrementalDelivery: false,
    })(params, options);
  }

  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: root.getAttribute("data-query"),
    defaultHeaders: root.getAttribute("data-headers"),
    isHeadersEditorEnabled: true,
    defaultEditorToolsVisibility: "headers",
    shouldPersistHeaders: false,
  }));
}());
