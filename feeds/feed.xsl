<?xml version="1.0" encoding="UTF-8"?>
<!-- How a browser shows an RSS 2.0 or Atom 1.0 feed of syndicate: a readable page with the
     feed's title, how to subscribe, and each item with its legal notice. Feed readers ignore it. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:geonotice="https://syndicate.rferl.dev/ns/geo/1.0"
    exclude-result-prefixes="atom geonotice">
  <xsl:output method="html" encoding="UTF-8" indent="yes"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="rss/channel/title | atom:feed/atom:title"/>
    <xsl:variable name="self" select="(rss/channel/atom:link[@rel='self'] | atom:feed/atom:link[@rel='self'])/@href"/>
    <html>
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/></title>
        <style>
          body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
          .about { background: #eef4fb; border: 1px solid #c9dcf0; padding: .75rem 1rem; border-radius: 6px; }
          .about code { background: #fff; padding: .1rem .3rem; word-break: break-all; }
          article { border-bottom: 1px solid #ddd; padding: 1rem 0; }
          article h2 { font-size: 1.2rem; margin: 0 0 .25rem; }
          .date { color: #666; font-size: .9rem; }
          .notice { background: #fff4e5; border-left: 4px solid #e69500; padding: .5rem .75rem; margin: .5rem 0; }
        </style>
      </head>
      <body>
        <h1 id="feed-title"><xsl:value-of select="$title"/></h1>
        <p class="about" id="subscribe">This is a web feed. To subscribe, copy its address into
          your feed reader: <code><xsl:value-of select="$self"/></code></p>
        <xsl:apply-templates select="rss/channel/item | atom:feed/atom:entry"/>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item | atom:entry">
    <xsl:variable name="link" select="link | atom:link[not(@rel) or @rel='alternate']/@href"/>
    <article class="item">
      <h2>
        <xsl:choose>
          <xsl:when test="$link"><a href="{$link}"><xsl:value-of select="title | atom:title"/></a></xsl:when>
          <xsl:otherwise><xsl:value-of select="title | atom:title"/></xsl:otherwise>
        </xsl:choose>
      </h2>
      <div class="date"><xsl:value-of select="pubDate | atom:published | atom:updated[not(../atom:published)]"/></div>
      <xsl:for-each select="geonotice:notice">
        <p class="notice" lang="{@xml:lang}">
          <xsl:value-of select="."/>
          <xsl:if test="@href"><xsl:text> </xsl:text><a href="{@href}">↗</a></xsl:if>
        </p>
      </xsl:for-each>
      <p class="summary"><xsl:value-of select="description | atom:summary"/></p>
    </article>
  </xsl:template>
</xsl:stylesheet>
