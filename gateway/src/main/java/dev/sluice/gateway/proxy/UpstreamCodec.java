package dev.sluice.gateway.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;

/**
 * The HTTP codec of an upstream connection: Netty's response decoder, and an encoder that passes
 * the request heads the exchange wrote in wire form ({@link UpstreamRequestHead}) and frames the
 * body after them ({@link BodyFraming}). It replaces {@code HttpClientCodec}, whose encoder would
 * take a request object and encode its every header.
 *
 * <p>As {@code HttpClientCodec} does, the decoder knows that the response to a {@code HEAD}
 * request has no body whatever its framing fields say; one exchange at a time uses a connection,
 * so the last head written is the request being answered.
 */
final class UpstreamCodec extends CombinedChannelDuplexHandler<UpstreamCodec.ResponseDecoder, UpstreamCodec.RequestEncoder> {

  UpstreamCodec(HttpDecoderConfig config) {
    ResponseDecoder decoder = new ResponseDecoder(config);
    init(decoder, new RequestEncoder(decoder));
  }

  static final class ResponseDecoder extends HttpResponseDecoder {
    private boolean headRequest;

    ResponseDecoder(HttpDecoderConfig config) {
      super(config);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
      int code = ((HttpResponse) msg).status().code();
      if (code >= 100 && code < 200) {
        return super.isContentAlwaysEmpty(msg); // interim heads, before the final one
      }
      return headRequest || super.isContentAlwaysEmpty(msg);
    }
  }

  static final class RequestEncoder extends ChannelOutboundHandlerAdapter {
    private final ResponseDecoder decoder;
    private boolean chunked;

    RequestEncoder(ResponseDecoder decoder) {
      this.decoder = decoder;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof EncodedHead head) {
        decoder.headRequest = head.headRequest();
        chunked = head.chunked();
        ctx.write(head.content(), promise); // the holder's reference passes with its buffer
      } else if (msg instanceof HttpContent content) {
        BodyFraming.write(ctx, content, chunked, promise);
      } else {
        ctx.write(msg, promise);
      }
    }
  }
}
