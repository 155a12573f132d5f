// Renders the demo's flow as a picture on the host (java.awt, headless), from the shared logic and
// real data: bus.jpg analysed by the real library, boxes laid out by BoxMapper/layoutBoxes for a
// phone-sized view, a tap at a shoe's box centre through DemoController.tap (hitTest), and the
// product sheet from a real search of the demo catalogue served on loopback.
// NOT a device screenshot: the Android/iOS UI is not compiled here. Run by
// android-demo/tools/render-flow.sh, which writes android-demo/docs/flow.jpg.
package com.shoplook.demo.tools

import com.shoplook.ShopLook
import com.shoplook.demo.logic.BoxMapper
import com.shoplook.demo.logic.DemoController
import com.shoplook.demo.logic.DemoSettings
import com.shoplook.demo.logic.Format
import com.shoplook.demo.logic.Screen
import com.shoplook.demo.logic.Sheet
import com.shoplook.demo.logic.Target
import com.shoplook.demo.logic.layoutBoxes
import java.awt.BasicStroke
import java.awt.Color
import java.awt.Font
import java.awt.Graphics2D
import java.awt.RenderingHints
import java.awt.geom.RoundRectangle2D
import java.awt.image.BufferedImage
import java.io.File
import javax.imageio.IIOImage
import javax.imageio.ImageIO
import javax.imageio.ImageWriteParam
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout

const val W = 540          // one phone screen, 1/2 of a 1080x2340 phone
const val H = 1170
const val BAR = 56         // top bar with the buttons
val GREEN = Color(0x00, 0xE6, 0x76)
val YELLOW = Color(0xFF, 0xC4, 0x00)

fun main(args: Array<String>) = runBlocking {
    val out = File(args.getOrElse(0) { "android-demo/docs/flow.jpg" })
    val fixtures = File(System.getenv("SHOPLOOK_FIXTURES") ?: "fixtures")
    val shop = ShopLook.fromModelDir(System.getenv("SHOPLOOK_MODELS") ?: "models")
    val settings = DemoSettings(System.getenv("SHOPLOOK_CATALOGUE_URL")!!, System.getenv("SHOPLOOK_CATALOGUE_KEY")!!, resultsPerSearch = 4)
    val c = DemoController(CoroutineScope(Dispatchers.Default), { shop }, settings)
    val photoBytes = File(fixtures, "external/bus.jpg").readBytes()
    val photo = ImageIO.read(photoBytes.inputStream())

    c.analyze(photoBytes)
    val p = withTimeout(60_000) { c.state.first { it is Screen.Photo } } as Screen.Photo
    val mapper = BoxMapper.of(p.analysis.width, p.analysis.height, W.toFloat(), (H - BAR).toFloat())
    val boxes = layoutBoxes(p.targets, mapper)
    val shoe = boxes.first { (it.target as? Target.Detected)?.item?.category == "shoes" }
    c.tap(boxes, shoe.rect.centerX, shoe.rect.centerY)
    val sheet = withTimeout(60_000) {
        c.state.first { ((it as? Screen.Photo)?.sheet).let { s -> s != null && s !is Sheet.Loading } }
    }.let { (it as Screen.Photo).sheet }
    check(sheet is Sheet.Products) { "no products: $sheet" }

    val img = BufferedImage(2 * W + 24, H + 70, BufferedImage.TYPE_INT_RGB)
    val g = img.createGraphics()
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON)
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON)
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR)
    g.color = Color(0xEE, 0xEE, 0xEE); g.fillRect(0, 0, img.width, img.height)

    // 1: the photo with its boxes.  2: a shoe tapped, the product sheet open.
    screen(g, 0, photo, mapper, boxes, null, "Tap a box to find it in the catalogue.")
    screen(g, W + 24, photo, mapper, boxes, shoe.target, null)
    productSheet(g, W + 24, sheet, fixtures)

    g.color = Color.DARK_GRAY
    g.font = Font(Font.SANS_SERIF, Font.PLAIN, 15)
    g.drawString("Rendered on the host from the demo's shared logic (BoxMapper, hitTest, DemoController) with the real library,", 8, H + 24)
    g.drawString("bus.jpg and a real search of the demo catalogue (DEMO DATA) — not a device screenshot. Left: boxes; right: a shoe tapped.", 8, H + 46)
    g.dispose()

    val writer = ImageIO.getImageWritersByFormatName("jpg").next()
    val param = writer.defaultWriteParam.apply { compressionMode = ImageWriteParam.MODE_EXPLICIT; compressionQuality = 0.82f }
    out.parentFile.mkdirs()
    ImageIO.createImageOutputStream(out).use { stream ->
        writer.output = stream
        writer.write(null, IIOImage(img, null, null), param)
    }
    writer.dispose()
    println("wrote $out (${out.length() / 1024} KB): ${p.targets.size} boxes, ${sheet.hits.size} products for ${shoe.caption}")
    System.exit(0)
}

fun screen(g: Graphics2D, x0: Int, photo: BufferedImage, m: BoxMapper, boxes: List<com.shoplook.demo.logic.ScreenBox>, selected: Target?, hint: String?) {
    val g2 = g.create(x0, 0, W, H) as Graphics2D
    g2.color = Color.BLACK; g2.fillRect(0, 0, W, H)
    val r = m.photoInView
    g2.drawImage(photo, r.left.toInt(), BAR + r.top.toInt(), r.width.toInt(), r.height.toInt(), null)
    g2.font = Font(Font.SANS_SERIF, Font.BOLD, 11)
    for (b in boxes) {
        val color = if (b.target is Target.Drawn) YELLOW else GREEN
        g2.color = color
        g2.stroke = BasicStroke(if (b.target == selected) 4f else 2f)
        g2.drawRect(b.rect.left.toInt(), BAR + b.rect.top.toInt(), b.rect.width.toInt(), b.rect.height.toInt())
        if (b.rect.width > 28) {
            val fm = g2.fontMetrics
            val tw = fm.stringWidth(b.caption) + 4
            val ty = (BAR + b.rect.top.toInt() - fm.height).coerceAtLeast(BAR)
            g2.fillRect(b.rect.left.toInt(), ty, tw, fm.height)
            g2.color = Color.BLACK
            g2.drawString(b.caption, b.rect.left.toInt() + 2, ty + fm.ascent)
        }
    }
    // Top bar: the buttons of PhotoScreen.
    g2.font = Font(Font.SANS_SERIF, Font.BOLD, 14)
    var bx = 8
    for (label in listOf("New photo", "Draw a box", "Settings")) {
        val w = g2.fontMetrics.stringWidth(label) + 28
        g2.color = Color(0x67, 0x50, 0xA4)
        g2.fill(RoundRectangle2D.Float(bx.toFloat(), 10f, w.toFloat(), 36f, 36f, 36f))
        g2.color = Color.WHITE
        g2.drawString(label, bx + 14, 33)
        bx += w + 8
    }
    if (hint != null) {
        g2.font = Font(Font.SANS_SERIF, Font.PLAIN, 15)
        val w = g2.fontMetrics.stringWidth(hint) + 24
        g2.color = Color(0, 0, 0, 160)
        g2.fillRect((W - w) / 2, H - 90, w, 36)
        g2.color = Color.WHITE
        g2.drawString(hint, (W - w) / 2 + 12, H - 66)
    }
    g2.dispose()
}

fun productSheet(g: Graphics2D, x0: Int, sheet: Sheet.Products, fixtures: File) {
    val top = 560
    val g2 = g.create(x0, 0, W, H) as Graphics2D
    g2.color = Color(0, 0, 0, 90); g2.fillRect(0, 0, W, top)
    g2.color = Color.WHITE
    g2.fill(RoundRectangle2D.Float(0f, top.toFloat(), W.toFloat(), (H - top + 30).toFloat(), 28f, 28f))
    g2.color = Color.LIGHT_GRAY; g2.fillRoundRect(W / 2 - 20, top + 10, 40, 5, 5, 5)
    g2.color = Color.BLACK
    g2.font = Font(Font.SANS_SERIF, Font.BOLD, 18)
    g2.drawString(sheet.target.label, 16, top + 46)
    var y = top + 64
    for (hit in sheet.hits) {
        // The app loads hit.image when it is an http(s) URL (Format.imageUrl); the demo feed's are
        // local file names, drawn here from fixtures/demo-catalogue (the app shows a placeholder).
        val thumb = File(fixtures, "demo-catalogue/${hit.image}").takeIf { it.isFile }?.let { ImageIO.read(it) }
        if (thumb != null) {
            val s = minOf(thumb.width, thumb.height)
            g2.drawImage(thumb, 16, y, 16 + 72, y + 72, (thumb.width - s) / 2, (thumb.height - s) / 2, (thumb.width + s) / 2, (thumb.height + s) / 2, null)
        } else {
            g2.color = Color.LIGHT_GRAY; g2.fillRect(16, y, 72, 72)
        }
        g2.color = Color.BLACK
        g2.font = Font(Font.SANS_SERIF, Font.BOLD, 15)
        g2.drawString(hit.title, 100, y + 16)
        g2.font = Font(Font.SANS_SERIF, Font.PLAIN, 13)
        g2.color = Color.DARK_GRAY
        g2.drawString(hit.brand, 100, y + 34)
        g2.color = Color.BLACK
        g2.drawString(Format.price(hit.price, hit.currency), 100, y + 52)
        g2.font = Font(Font.SANS_SERIF, Font.PLAIN, 11)
        g2.drawString(Format.similarity(hit.score), 100, y + 68)
        g2.color = Color(0x67, 0x50, 0xA4)
        g2.fill(RoundRectangle2D.Float((W - 82).toFloat(), (y + 18).toFloat(), 66f, 36f, 36f, 36f))
        g2.color = Color.WHITE
        g2.font = Font(Font.SANS_SERIF, Font.BOLD, 14)
        g2.drawString("Buy", W - 63, y + 41)
        y += 88
    }
    g2.dispose()
}
